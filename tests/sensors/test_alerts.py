"""Rules → alerts → incidents: one alert and one incident per crossing, whoever writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta

import psycopg2

from tests.sensors.conftest import measuring_stations, scalar, wait_for
from tests.sensors.test_ingest import publish

T0 = datetime(2026, 8, 1, 0, 0, tzinfo=UTC)


def _write_together(db: str, batches: list[list[tuple[str, str]]]) -> None:
    """Each batch written by its own worker (connection), all starting at once."""
    from api.cli_iot import open_incident
    from sensors.store import Store

    barrier = threading.Barrier(len(batches))
    errors: list[BaseException] = []

    def work(batch: list[tuple[str, str]]) -> None:
        conn = psycopg2.connect(db)
        try:
            store = Store(open_incident)
            with conn.cursor() as cur:
                store._sync(cur)
                barrier.wait()
                store.write(cur, batch)
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)
        finally:
            conn.close()

    threads = [threading.Thread(target=work, args=(b,)) for b in batches]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def _reading(station: int, minutes: int, value: float) -> tuple[str, str]:
    return (f"ioc/stations/{station}", json.dumps(
        {"phenomenonTime": (T0 + timedelta(minutes=minutes)).isoformat(), "result": value}))


def _alerts(conn, station: int) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute("SELECT a.rule_id, a.status, a.incident_id FROM sensor_alerts a JOIN datastreams d "
                    "ON d.id = a.datastream_id WHERE d.station_id = %s ORDER BY a.id", (station,))
        return cur.fetchall()


def test_a_crossing_raises_one_alert_and_one_incident_with_workers_racing(conn, sensors_db):
    station = next(i for i, k in measuring_stations(conn) if k == "water_level")
    name = scalar(conn, "SELECT name FROM iot_stations WHERE id = %s", (station,))
    incidents_before = scalar(conn, "SELECT count(*) FROM incidents")
    _write_together(sensors_db, [[_reading(station, 0, 3.2)]])
    assert _alerts(conn, station) == []
    # Four workers each hold a reading above the alarm level; they commit at the same moment.
    _write_together(sensors_db, [[_reading(station, 10 + k, 4.2 + k / 10)] for k in range(4)])
    [(rule, status, incident)] = _alerts(conn, station)
    assert (rule, status) == ("water_level_alarm2", "raised")
    assert scalar(conn, "SELECT count(*) FROM incidents") == incidents_before + 1
    kind, title, event = (scalar(conn, f"SELECT {c} FROM incidents i WHERE id = %s", (incident,))  # noqa: S608
                          for c in ("kind", "title", "(SELECT count(*) FROM incident_events e "
                                                    "WHERE e.incident_id = i.id)"))
    assert kind == "flood" and name in title and "Mực nước vượt báo động II" in title
    assert event == 1
    # Still above: nothing new. Back under: the alert clears by itself.
    _write_together(sensors_db, [[_reading(station, 30, 4.9)], [_reading(station, 31, 4.8)]])
    assert len(_alerts(conn, station)) == 1
    _write_together(sensors_db, [[_reading(station, 40, 3.5)]])
    assert [s for _, s, _ in _alerts(conn, station)] == ["cleared"]
    # A late reading of the past changes nothing: the latest reading decides.
    _write_together(sensors_db, [[_reading(station, 35, 5.0)]])
    assert [s for _, s, _ in _alerts(conn, station)] == ["cleared"]
    # A new crossing is a new alert and a new incident.
    _write_together(sensors_db, [[_reading(station, 50, 4.4)], [_reading(station, 51, 4.5)]])
    assert [s for _, s, _ in _alerts(conn, station)] == ["cleared", "raised"]
    assert scalar(conn, "SELECT count(*) FROM incidents") == incidents_before + 2


def test_rain_summed_over_an_hour_raises_one_alert(conn, sensors_db):
    gauge = [i for i, k in measuring_stations(conn) if k == "rain_gauge"][-1]
    # 10-minute readings of 9 mm: the hour's sum passes 50 mm at the sixth.
    _write_together(sensors_db, [[_reading(gauge, 10 * k, 9.0)] for k in range(3)])
    _write_together(sensors_db, [[_reading(gauge, 10 * k, 9.0)] for k in range(3, 5)])
    assert _alerts(conn, gauge) == []
    _write_together(sensors_db, [[_reading(gauge, 50, 9.0)], [_reading(gauge, 50, 9.0)]])
    alerts = _alerts(conn, gauge)
    assert [(r, s) for r, s, _ in alerts] == [("rain_heavy_1h", "raised")]
    assert alerts[0][2] is not None


def test_two_listeners_share_the_topics_without_loss_or_duplicate(conn, listener, root):
    a, b = listener(), listener()
    stations = [i for i, k in measuring_stations(conn) if k == "rain_gauge"][:5]
    sent = [(s, {"phenomenonTime": (T0 + timedelta(days=5, seconds=k)).isoformat(), "result": 0.2})
            for k in range(400) for s in stations]
    publish(root, sent + sent[:300])  # 300 resent
    wait_for(lambda: a.totals.stored + b.totals.stored + a.totals.duplicates + b.totals.duplicates
             >= len(sent) + 300, 60)
    assert a.totals.stored > 0 and b.totals.stored > 0  # both workers took a share
    assert a.totals.stored + b.totals.stored == len(sent)
    stored = scalar(conn, "SELECT count(*) FROM observations o JOIN datastreams d ON d.id = "
                    "o.datastream_id WHERE d.station_id = ANY(%s) AND phenomenon_time >= %s "
                    "AND phenomenon_time < %s", (stations, T0 + timedelta(days=5),
                                                  T0 + timedelta(days=6)))
    assert stored == len(sent)


def test_the_simulated_storm_raises_alerts_and_incidents(conn, listener, root, sensors_db):
    x = listener()
    before = scalar(conn, "SELECT coalesce(max(id), 0) FROM sensor_alerts")
    env = {**os.environ, "DATABASE_URL": sensors_db, "IOC_MQTT_TOPIC": root}
    run = subprocess.run([sys.executable, "-m", "api.cli", "iot", "simulate", "--steps", "24",
                          "--step-seconds", "0.3"],
                         env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    sent = int(run.stdout.split("Đã gửi ")[1].split()[0])
    wait_for(lambda: x.totals.stored + x.totals.duplicates + x.totals.refused >= sent, 120)
    assert x.totals.refused == 0
    with conn.cursor() as cur:
        cur.execute("SELECT a.rule_id, count(*), count(a.incident_id), count(a.cleared_at) "
                    "FROM sensor_alerts a WHERE a.id > %s GROUP BY 1", (before,))
        raised = {r: (n, i) for r, n, i, _ in cur.fetchall()}
        cur.execute("SELECT a.rule_id, count(a.cleared_at) FROM sensor_alerts a WHERE a.id > %s "
                    "GROUP BY 1", (before,))
        cleared = dict(cur.fetchall())
    # Rain in the north-west passes 50 mm an hour, then eases off: those alerts clear by
    # themselves; a river there crosses alarm II; every alert of a rule with one has its incident.
    assert raised["rain_heavy_1h"][0] >= 1 and cleared["rain_heavy_1h"] == raised["rain_heavy_1h"][0]
    assert raised["water_level_alarm2"][0] >= 1
    assert all(n == i for r, (n, i) in raised.items() if r != "pm25_unhealthy")
    from sensors.simulate import silent_station, stations

    with conn.cursor() as cur:
        silent = silent_station(stations(cur))
        cur.execute("SELECT d.station_id = %s, count(*) FROM observations o JOIN datastreams d ON "
                    "d.id = o.datastream_id WHERE o.phenomenon_time > now() - interval '5 hours' "
                    "GROUP BY d.station_id", (silent,))
        counts = cur.fetchall()
    assert [n for s, n in counts if s] == [12] and {n for s, n in counts if not s} == {24}
    # The layer (its OGC collection and tiles) carries each station's last reading.
    with conn.cursor() as cur:
        cur.execute("SELECT count(*), count(*) FILTER (WHERE s.last_value = l.result AND "
                    "s.last_reading_at = l.phenomenon_time AND s.status = 'online') "
                    "FROM iot_stations s JOIN datastreams d ON d.station_id = s.id CROSS JOIN LATERAL "
                    "(SELECT result, phenomenon_time FROM observations o WHERE o.datastream_id = d.id "
                    " ORDER BY phenomenon_time DESC LIMIT 1) l WHERE l.phenomenon_time > now() - "
                    "interval '5 hours'")
        total, shown = cur.fetchone()
    assert total > 0 and shown == total
    bad = subprocess.run([sys.executable, "-m", "api.cli", "iot", "simulate", "--start", "yesterday"],
                         env=env, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1 and "--start" in bad.stderr
