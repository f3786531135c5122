"""A broker that goes away mid-storm: the listener reconnects by itself and nothing is lost.

A Mosquitto of the test's own (Debian's ``mosquitto`` binary, persistence on, a free port), so
that stopping it disturbs nobody else sharing the machine's broker.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as mqtt
import pytest

from tests.conftest import _free_port
from tests.sensors.conftest import measuring_stations, scalar, wait_for

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def _broker(port: int, folder) -> subprocess.Popen:
    conf = folder / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
                    f"persistence_location {folder}/\n", encoding="utf-8")
    process = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)

    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _publish(port: int, topic_root: str, station: int, minutes: range) -> None:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.connect("127.0.0.1", port)
    client.loop_start()
    base = datetime(2026, 9, 1, tzinfo=UTC)
    infos = [client.publish(f"{topic_root}/{station}", json.dumps(
        {"phenomenonTime": (base + timedelta(minutes=m)).isoformat(), "result": 1.0}), qos=1)
        for m in minutes]
    for info in infos:
        info.wait_for_publish(timeout=30)
    client.loop_stop()
    client.disconnect()


@pytest.mark.skipif(not os.path.exists(MOSQUITTO), reason="no mosquitto binary")
def test_the_listener_survives_a_broker_restart_without_loss(conn, sensors_db, root, tmp_path):
    from api.cli_iot import _connect, open_incident
    from sensors.mqtt import Listener
    from sensors.store import Store

    port = _free_port()
    broker = _broker(port, tmp_path)
    station = next(i for i, k in measuring_stations(conn) if k == "air_quality")
    x = Listener(f"mqtt://127.0.0.1:{port}", _connect(sensors_db), Store(open_incident, root),
                 client_id=f"restart-{root.split('/')[0]}")
    thread = threading.Thread(target=x.run, daemon=True)
    thread.start()
    try:
        assert x.ready.wait(10)
        time.sleep(0.2)
        _publish(port, root, station, range(0, 300))
        broker.terminate()  # mid-stream: some delivered, some not yet acknowledged
        broker.wait(timeout=10)
        x.ready.clear()
        broker = _broker(port, tmp_path)
        assert x.ready.wait(30), "the listener did not reconnect"
        _publish(port, root, station, range(300, 600))
        count = lambda: scalar(conn, "SELECT count(*) FROM observations o JOIN datastreams d ON "  # noqa: E731
                               "d.id = o.datastream_id WHERE d.station_id = %s AND "
                               "phenomenon_time >= '2026-09-01' AND phenomenon_time < '2026-09-02'",
                               (station,))
        wait_for(lambda: count() == 600, 60)
    finally:
        x.stop()
        thread.join(timeout=10)
        broker.terminate()
        broker.wait(timeout=10)
    assert x.generation >= 2
