"""``ioc up`` with IOC_MQTT_URL set also runs the stations' listener: a measurement published on
the broker reaches the database while the platform serves, and stopping ``ioc up`` stops it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import httpx
import paho.mqtt.client as mqtt
import psycopg2
import pytest

from tests.conftest import ROOT, _free_port
from tests.sensors.conftest import measuring_stations, scalar


def _count(conn, station: int) -> int:
    return scalar(conn, "SELECT count(*) FROM observations o JOIN datastreams d ON "
                  "d.id = o.datastream_id WHERE d.station_id = %s AND "
                  "phenomenon_time = '2026-10-01T00:00:00Z'", (station,))


def test_ioc_up_starts_the_mqtt_listener(sensors_db, root, tmp_path):
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": sensors_db, "IOC_VAR_DIR": str(tmp_path),
           "IOC_PORT": str(port), "IOC_LOG_LEVEL": "WARNING",
           "IOC_MQTT_URL": "mqtt://127.0.0.1:1883", "IOC_MQTT_TOPIC": root}
    log = open(tmp_path / "up.log", "wb")  # noqa: SIM115 - closed below
    up = subprocess.Popen([sys.executable, "-m", "api.cli", "up", "--no-samples"], cwd=ROOT,
                          env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    conn = psycopg2.connect(sensors_db)
    conn.autocommit = True
    station = next(i for i, k in measuring_stations(conn) if k == "air_quality")
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
                break
            except httpx.TransportError:
                assert up.poll() is None and time.monotonic() < deadline, \
                    (tmp_path / "up.log").read_text()[-2000:]
                time.sleep(0.3)
        client.connect("127.0.0.1", 1883)
        client.loop_start()
        payload = json.dumps({"phenomenonTime": "2026-10-01T00:00:00Z", "result": 42.0})
        # The listener subscribes a moment after the web answers: publish until it is stored.
        while _count(conn, station) == 0:
            assert time.monotonic() < deadline, (tmp_path / "up.log").read_text()[-2000:]
            client.publish(f"{root}/{station}", payload, qos=1).wait_for_publish(timeout=10)
            time.sleep(1)
    finally:
        client.loop_stop()
        client.disconnect()
        up.send_signal(signal.SIGTERM)
        try:
            up.wait(timeout=90)
        except subprocess.TimeoutExpired:
            os.killpg(up.pid, signal.SIGKILL)
            up.wait()
        log.close()
        conn.close()
    with pytest.raises(ProcessLookupError):  # the worker and the listener stopped with it
        os.killpg(up.pid, 0)
