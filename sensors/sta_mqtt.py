"""The SensorThings MQTT extension: each committed observation published on
``v1.1/Datastreams(<id>)/Observations`` as the JSON a GET of it answers.

Whatever path an observation came by (MQTT, HTTP batch, ``CreateObservations``), the store
hands the new rows here once its transaction has committed. A subscriber to a datastream's topic
receives them with QoS 1 while it is connected; paho reconnects by itself and keeps what was
published meanwhile (up to ``MAX_QUEUED``). ``prefix`` lets deployments share a broker.
"""

from __future__ import annotations

import json
import logging
import uuid

import paho.mqtt.client as mqtt

from sensors.ingest import Stored
from sensors.mqtt import broker
from sensors.sta import iso_time

LOG = logging.getLogger(__name__)
MAX_QUEUED = 100_000


def topic(datastream_id: int, prefix: str = "") -> str:
    """The topic of a datastream's new observations."""
    return f"{prefix}v1.1/Datastreams({datastream_id})/Observations"


class Publisher:
    """A connection to the broker that publishes new observations; ``close`` when done."""

    def __init__(self, url: str, sta_base: str, prefix: str = ""):
        self.prefix = prefix
        self.base = sta_base.rstrip("/")
        host, port = broker(url)
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2,
                                  client_id=f"ioc-sta-{uuid.uuid4().hex[:8]}", protocol=mqtt.MQTTv5)
        self.client.max_queued_messages_set(MAX_QUEUED)
        self.client.reconnect_delay_set(0.2, 5)
        self.client.connect_async(host, port, keepalive=30)
        self.client.loop_start()

    def message(self, o: Stored) -> tuple[str, str]:
        """Topic and payload of one observation: what ``Reader.render`` makes of it, built
        directly (a few microseconds, once per observation stored)."""
        link = f"{self.base}/Observations({o.id})"
        t = iso_time(o.time)
        doc = {"@iot.id": o.id, "@iot.selfLink": link, "phenomenonTime": t, "resultTime": t,
               "result": o.value, "Datastream@iot.navigationLink": f"{link}/Datastream",
               "FeatureOfInterest@iot.navigationLink": f"{link}/FeatureOfInterest"}
        return topic(o.datastream_id, self.prefix), json.dumps(doc, ensure_ascii=False)

    def __call__(self, observations: list[Stored]) -> None:
        """Publish ``observations`` (already committed), in phenomenon-time order."""
        for o in sorted(observations, key=lambda o: (o.datastream_id, o.time)):
            name, payload = self.message(o)
            info = self.client.publish(name, payload, qos=1)
            if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
                LOG.warning("observation %s not published on %s: %s", o.id, name,
                            mqtt.error_string(info.rc))

    def close(self) -> None:
        """Send what is queued (briefly) and disconnect."""
        self.client.loop_stop()
        self.client.disconnect()
