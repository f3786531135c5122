"""The MQTT subscriber: messages in, batches committed, then acknowledged (QoS 1).

Workers share the stations' topics through the shared subscription ``$share/ioc/<root>/+``, so the
broker spreads the load among them; a single worker subscribes to ``<root>/+`` itself, because
Mosquitto (2.0) keeps a plain subscription of a persistent session over its own restart but not a
shared one: readings published after a restart and before the workers subscribe again would be
acknowledged to the stations and delivered to no one. Each keeps a persistent session (MQTT 5,
clean start off): what was delivered but not yet acknowledged when a worker or the broker
stopped is delivered again and changes nothing (observations are unique by datastream and
phenomenon time). paho reconnects by itself when the broker comes back.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from sensors.store import Outcome, Store

LOG = logging.getLogger(__name__)
SHARE = "$share/ioc/"


def broker(url: str) -> tuple[str, int]:
    """Host and port of an ``mqtt://host:port`` URL."""
    parts = urlsplit(url if "://" in url else f"mqtt://{url}")
    return parts.hostname or "127.0.0.1", parts.port or 1883


class Listener:
    """Subscribe, batch, store, acknowledge; ``run`` until ``stop``."""

    def __init__(self, url: str, connect: Any, store: Store, *, client_id: str | None = None,
                 batch: int = 2000, wait_s: float = 0.005, shared: bool = True):
        self.host, self.port = broker(url)
        self.connect = connect  # () -> a DB-API connection
        self.store = store
        self.topics = f"{SHARE if shared else ''}{store.root}/+"
        self.batch = batch
        self.wait_s = wait_s
        self.inbox: queue.Queue[tuple[int, mqtt.MQTTMessage]] = queue.Queue()
        self.generation = 0
        self.received = 0
        self.totals = Outcome()
        self.stopping = threading.Event()
        self.ready = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2,
                                  client_id=client_id or f"ioc-{uuid.uuid4().hex[:8]}",
                                  protocol=mqtt.MQTTv5, manual_ack=True)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(0.2, 5)

    def _on_connect(self, client: mqtt.Client, _: Any, __: Any, reason: Any, ___: Any) -> None:
        if reason.is_failure:
            LOG.warning("MQTT connection refused: %s", reason)
            return
        self.generation += 1
        client.subscribe(self.topics, qos=1)
        self.ready.set()
        LOG.info("subscribed to %s on %s:%s", self.topics, self.host, self.port)

    def _on_message(self, _: mqtt.Client, __: Any, message: mqtt.MQTTMessage) -> None:
        self.received += 1
        self.inbox.put((self.generation, message))

    def _take(self) -> list[tuple[int, mqtt.MQTTMessage]]:
        try:
            first = self.inbox.get(timeout=0.5)
        except queue.Empty:
            return []
        items = [first]
        deadline = time.monotonic() + self.wait_s
        while len(items) < self.batch:
            left = deadline - time.monotonic()
            try:
                items.append(self.inbox.get(timeout=left) if left > 0 else self.inbox.get_nowait())
            except queue.Empty:
                break
        return items

    def _drain(self) -> None:
        conn = None
        while not self.stopping.is_set() or not self.inbox.empty():
            items = self._take()
            if not items:
                if self.store.pending:  # rules for what came in, now that nothing else comes
                    try:
                        conn = conn or self.connect()
                        with conn.cursor() as cursor:
                            self.totals.raised += self.store.evaluate(cursor, due_only=False)
                    except Exception:  # noqa: BLE001 - tried again on the next idle moment
                        LOG.exception("could not evaluate the rules")
                        conn = None
                continue
            while True:
                try:
                    conn = conn or self.connect()
                    with conn.cursor() as cursor:
                        outcome = self.store.write(
                            cursor, [(m.topic, m.payload) for _, m in items])
                    break
                except Exception:  # noqa: BLE001 - the database may come back: keep the batch
                    LOG.exception("could not store a batch of %s messages; retrying", len(items))
                    conn = None
                    if self.stopping.wait(1.0):
                        return  # not acknowledged: the broker delivers them again
            for generation, message in items:
                if generation == self.generation and message.qos > 0:
                    self.client.ack(message.mid, message.qos)
            t = self.totals
            t.stored += outcome.stored
            t.duplicates += outcome.duplicates
            t.refused += outcome.refused
            t.raised += outcome.raised

    def run(self) -> None:
        """Connect (retrying), subscribe and store until ``stop`` is called."""
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = 3600
        properties.ReceiveMaximum = 65535
        worker = threading.Thread(target=self._drain, name="ioc-mqtt-store", daemon=True)
        worker.start()
        while not self.stopping.is_set():
            try:
                self.client.connect(self.host, self.port, keepalive=30, clean_start=False,
                                    properties=properties)
                break
            except OSError as err:
                LOG.warning("MQTT broker %s:%s not reachable (%s); retrying", self.host, self.port, err)
                self.stopping.wait(1.0)
        self.client.loop_start()
        self.stopping.wait()
        worker.join()
        self.client.loop_stop()
        self.client.disconnect()

    def stop(self) -> None:
        """Finish the batch in hand and disconnect."""
        self.stopping.set()
