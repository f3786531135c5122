"""A storm over Lai Châu's stations, for demonstrations and tests: rain rising in the
north-west (Mường Tè, Sìn Hồ), rivers there crossing their alarm level, air clearing under the
rain, one rain gauge falling silent half-way.

Readings are every 10 minutes; ``storm`` yields them in time order, ``publish`` sends them to
the broker with QoS 1.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import paho.mqtt.client as mqtt

from sensors.ingest import TOPIC_ROOT
from sensors.mqtt import broker

STEP = timedelta(minutes=10)
CENTRE = (102.75, 22.45)  # the storm's centre, north-west of the province
SIGMA_DEG = 0.35


@dataclass(frozen=True)
class Station:
    """A measuring station of the ``iot_stations`` layer."""

    id: int
    kind: str
    lon: float
    lat: float


def stations(cursor: Any) -> list[Station]:
    """The measuring stations (cameras excluded), in id order."""
    cursor.execute("SELECT id, kind, ST_X(geom), ST_Y(geom) FROM iot_stations "
                   "WHERE kind IN ('rain_gauge', 'water_level', 'air_quality') ORDER BY id")
    return [Station(*row) for row in cursor.fetchall()]


def _closeness(s: Station) -> float:
    d2 = (s.lon - CENTRE[0]) ** 2 + (s.lat - CENTRE[1]) ** 2
    return math.exp(-d2 / (2 * SIGMA_DEG**2))


def silent_station(sites: list[Station]) -> int | None:
    """The rain gauge that stops reporting half-way: the one farthest from the storm."""
    gauges = [s for s in sites if s.kind == "rain_gauge"]
    return min(gauges, key=_closeness).id if gauges else None


def storm(sites: list[Station], start: datetime, steps: int = 36, seed: int = 7
          ) -> Iterator[tuple[int, datetime, int, dict[str, Any]]]:
    """``(step, time, station id, payload)`` for each reading, step by step."""
    rng = random.Random(seed)
    silent = silent_station(sites)
    levels = {s.id: 1.2 + 0.6 * rng.random() for s in sites if s.kind == "water_level"}
    for step in range(steps):
        t = start + step * STEP
        # Intensity rises to a peak two-thirds through and eases off.
        phase = math.sin(math.pi * min(1.0, step / (steps * 2 / 3))) if step < steps * 2 / 3 \
            else max(0.0, 1 - (step - steps * 2 / 3) / (steps / 3)) * 0.6
        for s in sites:
            if s.id == silent and step >= steps // 2:
                continue
            near = _closeness(s)
            if s.kind == "rain_gauge":
                value = round(max(0.0, 22 * near * phase + rng.gauss(0.4, 0.3)), 1)
            elif s.kind == "water_level":
                levels[s.id] += 0.32 * near * phase - 0.02 * (levels[s.id] - 1.2) + rng.gauss(0, 0.01)
                value = round(max(0.0, levels[s.id]), 2)
            else:
                value = round(max(2.0, 55 - 40 * phase * near + rng.gauss(0, 4)), 1)
            yield step, t, s.id, {"phenomenonTime": t.isoformat(), "result": value}


def _delivered(info: mqtt.MQTTMessageInfo, timeout: float) -> None:
    """Wait for the broker's PUBACK. A message published while the broker was away is kept by
    paho (QoS 1) and sent again once it reconnects; its ``rc`` still says "no connection", which
    ``wait_for_publish`` takes for a failure, so wait on its published flag instead."""
    if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN, mqtt.MQTT_ERR_AGAIN):
        info.wait_for_publish(timeout)  # raises with the reason
    deadline = time.monotonic() + timeout
    with info._condition:  # noqa: SLF001 - paho offers no public wait that tolerates a reconnect
        while not info._published:  # noqa: SLF001
            if time.monotonic() > deadline:
                raise TimeoutError("the broker did not acknowledge a reading in time")
            info._condition.wait(0.1)  # noqa: SLF001


def publish(url: str, readings: Iterable[tuple[int, datetime, int, dict[str, Any]]],
            *, step_seconds: float = 0.0, root: str = TOPIC_ROOT) -> int:
    """Publish readings with QoS 1 and wait for the broker to take each; how many were sent.

    ``step_seconds`` pauses between steps (0: as fast as the broker takes them).
    """
    host, port = broker(url)
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="",
                         protocol=mqtt.MQTTv5)
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.reconnect_delay_set(0.2, 2)  # a broker restarted mid-storm is back within seconds
    client.connect(host, port, keepalive=30)
    client.loop_start()
    sent, pending, last_step = 0, [], None
    try:
        for step, _, station, payload in readings:
            if last_step is not None and step != last_step and step_seconds > 0:
                time.sleep(step_seconds)
            last_step = step
            pending.append(client.publish(f"{root}/{station}", json.dumps(payload), qos=1))
            sent += 1
            if len(pending) >= 1000:
                for info in pending:
                    _delivered(info, 60)
                pending.clear()
        for info in pending:
            _delivered(info, 60)
    finally:
        client.loop_stop()
        client.disconnect()
    return sent


def default_start(steps: int, now: datetime | None = None) -> datetime:
    """A start such that the storm's last step is the current 10 minutes."""
    now = (now or datetime.now(UTC)).replace(second=0, microsecond=0)
    now -= timedelta(minutes=now.minute % 10)
    return now - (steps - 1) * STEP
