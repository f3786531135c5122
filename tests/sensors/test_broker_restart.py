"""A broker that goes away mid-storm: the listener reconnects by itself and nothing is lost.

A Mosquitto of the test's own (Debian's ``mosquitto`` binary, persistence on, a free port), so
that stopping it disturbs nobody else sharing the machine's broker.
"""

from __future__ import annotations

import getpass
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
    # Mosquitto started by root drops to the user `mosquitto`, who may not write in the test's
    # folder: keep the test's user, or its persistence (sessions over a restart) is never saved.
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
                    f"persistence_location {folder}/\nuser {getpass.getuser()}\n", encoding="utf-8")
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


def _expected(readings: list[tuple[int, datetime, int, dict]], kinds: dict[int, str]
              ) -> dict[tuple[str, int], list[bool]]:
    """Each (rule, station)'s condition after each of its readings, computed here from what the
    simulator sent (the database's rules are not asked)."""
    from sensors.alerts import rules
    from sensors.catalog import SENSORS

    series: dict[int, list[tuple[datetime, float]]] = {}
    for _, t, station, payload in readings:
        series.setdefault(station, []).append((t, payload["result"]))
    out: dict[tuple[str, int], list[bool]] = {}
    for r in rules():
        if r.kind == "silence":
            continue
        for station, points in series.items():
            if SENSORS[kinds[station]].property != r.property:
                continue
            window = timedelta(hours=r.window_hours)
            states = []
            for t, v in points:
                if r.kind == "threshold":
                    value = v
                elif r.kind == "sum":
                    value = sum(x for s, x in points if t - window < s <= t)
                else:
                    value = v - min(x for s, x in points if t - window <= s <= t)
                states.append(value > r.above + 1e-9)
            out[r.id, station] = states
    return out


def _episodes(states: list[bool]) -> int:
    return sum(1 for k, s in enumerate(states) if s and (k == 0 or not states[k - 1]))


@pytest.mark.skipif(not os.path.exists(MOSQUITTO), reason="no mosquitto binary")
def test_a_storm_with_the_broker_restarted_midway_loses_nothing_and_alerts_right(
        conn, sensors_db, root, tmp_path):
    from api.cli_iot import _connect, open_incident
    from sensors import silence, simulate
    from sensors.mqtt import Listener
    from sensors.store import Store

    port = _free_port()
    broker = _broker(port, tmp_path)
    with conn.cursor() as cur:
        sites = simulate.stations(cur)
    kinds = {s.id: s.kind for s in sites}
    readings = list(simulate.storm(sites, simulate.default_start(24), 24))
    before = scalar(conn, "SELECT coalesce(max(id), 0) FROM sensor_alerts")
    # As `ioc iot listen` runs it (one worker): the rules once a second over what came in
    # meanwhile, its own subscription kept by the broker over the restart.
    x = Listener(f"mqtt://127.0.0.1:{port}", _connect(sensors_db),
                 Store(open_incident, root, rules_every=1.0), shared=False)
    listening = threading.Thread(target=x.run, daemon=True)
    listening.start()
    sent: list[int] = []
    try:
        assert x.ready.wait(10)
        time.sleep(0.2)
        publishing = threading.Thread(target=lambda: sent.append(simulate.publish(
            f"mqtt://127.0.0.1:{port}", readings, step_seconds=0.2, root=root)), daemon=True)
        publishing.start()
        wait_for(lambda: x.totals.stored >= len(readings) // 3, 60)
        broker.terminate()  # mid-storm, for publisher and listener alike
        broker.wait(timeout=10)
        x.ready.clear()
        broker = _broker(port, tmp_path)
        assert x.ready.wait(30), "the listener did not reconnect"
        publishing.join(timeout=120)
        assert sent == [len(readings)], "the simulator did not get every reading acknowledged"
        stored = lambda: scalar(conn, "SELECT count(*) FROM observations WHERE phenomenon_time "  # noqa: E731
                                ">= %s AND date_part('second', phenomenon_time) = 0",
                                (readings[0][1],))
        wait_for(lambda: stored() == len(readings) and not x.store.pending, 60)
        time.sleep(1.5)  # one more idle round of the rules
    finally:
        x.stop()
        listening.join(timeout=10)
        broker.terminate()
        broker.wait(timeout=10)
    assert x.generation >= 2
    # Nothing lost, nothing twice: each reading once, with the value that was sent.
    with conn.cursor() as cur:
        cur.execute("SELECT d.station_id, o.phenomenon_time, o.result FROM observations o JOIN "
                    "datastreams d ON d.id = o.datastream_id WHERE o.phenomenon_time >= %s",
                    (readings[0][1],))
        rows = {(s, t): v for s, t, v in cur.fetchall()}
    assert rows == {(station, t): p["result"] for _, t, station, p in readings}
    assert scalar(conn, "SELECT count(*) FROM observation_quarantine") == 0
    # The alerts: only for conditions the readings met, at most one per episode of it, every
    # lasting crossing caught, and open now exactly where the last reading still meets the rule.
    expected = _expected(readings, kinds)
    with conn.cursor() as cur:
        cur.execute("SELECT a.rule_id, d.station_id, count(*), count(*) FILTER (WHERE a.status <> "
                    "'cleared'), count(a.incident_id), count(a.clear_noted_at), "
                    "count(*) FILTER (WHERE a.status = 'cleared') FROM sensor_alerts a "
                    "JOIN datastreams d ON d.id = a.datastream_id WHERE a.id > %s GROUP BY 1, 2",
                    (before,))
        got = {(r, s): rest for r, s, *rest in cur.fetchall()}
    assert {"rain_heavy_1h", "water_level_alarm2"} <= {r for r, _ in got}
    for key, (n, still_open, with_incident, noted, cleared) in got.items():
        states = expected[key]
        assert 1 <= n <= _episodes(states), (key, n, states)
        assert still_open == int(states[-1]), (key, states)
        assert with_incident == n and noted == cleared, key  # every rule here opens an incident
    for key, states in expected.items():
        lasting = any(all(states[k:k + 10]) for k in range(len(states) - 9))
        assert key in got or not lasting, key
    # The gauge that fell silent half-way is found by the periodic check; no other station is.
    import psycopg2

    with psycopg2.connect(sensors_db) as job, job.cursor() as cur:
        silence.check(cur)  # what the worker runs every minute
    with conn.cursor() as cur:
        cur.execute("SELECT d.station_id FROM sensor_alerts a JOIN datastreams d ON "
                    "d.id = a.datastream_id WHERE a.rule_id LIKE '%%_silent' AND a.status <> "
                    "'cleared' AND d.station_id = ANY(%s)", (list(kinds),))
        assert [s for (s,) in cur.fetchall()] == [simulate.silent_station(sites)]
