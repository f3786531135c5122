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


def _timeline(conn, incident: int) -> list[str]:
    with conn.cursor() as cur:
        cur.execute("SELECT note FROM incident_events WHERE incident_id = %s ORDER BY at, id",
                    (incident,))
        return [n for (n,) in cur.fetchall()]


def _close(conn, incident: int) -> None:
    from scenarios import incidents

    with conn.cursor() as cur:
        incidents.change_status(cur, incident, incidents.StatusChange(status="closed"), "t")


def test_a_crossing_raises_one_alert_and_one_incident_with_workers_racing(conn, sensors_db):
    station = next(i for i, k in measuring_stations(conn) if k == "water_level")
    name = scalar(conn, "SELECT name FROM iot_stations WHERE id = %s", (station,))
    incidents_before = scalar(conn, "SELECT count(*) FROM incidents")
    _write_together(sensors_db, [[_reading(station, 0, 3.5)]])
    assert _alerts(conn, station) == []
    # Four workers each hold a reading above the alarm level; they commit at the same moment.
    # (A rise of 1.0 m in the hour at most: the fast-rise rule stays quiet.)
    _write_together(sensors_db, [[_reading(station, 10 + k, 4.2 + k / 10)] for k in range(4)])
    [(rule, status, incident)] = _alerts(conn, station)
    assert (rule, status) == ("water_level_alarm2", "raised")
    assert scalar(conn, "SELECT count(*) FROM incidents") == incidents_before + 1
    kind, title, event = (scalar(conn, f"SELECT {c} FROM incidents i WHERE id = %s", (incident,))  # noqa: S608
                          for c in ("kind", "title", "(SELECT count(*) FROM incident_events e "
                                                    "WHERE e.incident_id = i.id)"))
    assert kind == "flood" and name in title and "Mực nước vượt báo động II" in title
    assert event == 1
    # Still above: nothing new. Back under: the alert clears by itself and its incident is told.
    _write_together(sensors_db, [[_reading(station, 30, 4.4)], [_reading(station, 31, 4.4)]])
    assert len(_alerts(conn, station)) == 1
    _write_together(sensors_db, [[_reading(station, 40, 3.5)]])
    assert [s for _, s, _ in _alerts(conn, station)] == ["cleared"]
    assert scalar(conn, "SELECT cleared_value FROM sensor_alerts WHERE incident_id = %s",
                  (incident,)) == 3.5
    assert _timeline(conn, incident)[-1].startswith("Hết cảnh báo (tự động): Mực nước vượt báo động II")
    # A late reading of the past changes nothing: the latest reading decides.
    _write_together(sensors_db, [[_reading(station, 35, 5.0)]])
    assert [s for _, s, _ in _alerts(conn, station)] == ["cleared"]
    # A new crossing while the incident is open is a new alert on the same incident...
    _write_together(sensors_db, [[_reading(station, 50, 4.4)], [_reading(station, 51, 4.5)]])
    alerts = _alerts(conn, station)
    assert [(s, i) for _, s, i in alerts] == [("cleared", incident), ("raised", incident)]
    assert scalar(conn, "SELECT count(*) FROM incidents") == incidents_before + 1
    assert _timeline(conn, incident)[-1].startswith("Cảnh báo mới: Mực nước vượt báo động II")
    # ... and once that incident is closed, the next crossing opens another.
    _close(conn, incident)
    _write_together(sensors_db, [[_reading(station, 60, 3.6)]])
    _write_together(sensors_db, [[_reading(station, 70, 4.4)]])
    assert scalar(conn, "SELECT count(*) FROM incidents") == incidents_before + 2
    assert _alerts(conn, station)[-1][2] not in (None, incident)


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


def test_a_fast_rise_raises_below_the_alarm_level_and_clears_when_it_levels_off(conn, sensors_db):
    station = [i for i, k in measuring_stations(conn) if k == "water_level"][1]
    write = lambda m, v: _write_together(sensors_db, [[_reading(station, 2 * 1440 + m, v)]])  # noqa: E731
    write(0, 2.0)
    write(20, 2.5)
    write(50, 3.1)  # up 1.1 m in 50 minutes, still under alarm II
    [(rule, status, incident)] = _alerts(conn, station)
    assert (rule, status) == ("water_level_rise_1h", "raised") and incident is not None
    assert scalar(conn, "SELECT kind FROM incidents WHERE id = %s", (incident,)) == "flash_flood"
    assert abs(scalar(conn, "SELECT value FROM sensor_alerts WHERE incident_id = %s AND "
                      "rule_id = 'water_level_rise_1h'", (incident,)) - 1.1) < 1e-9
    write(130, 3.2)  # an hour later the river has levelled off: the reading of 50 min is out
    assert [s for _, s, _ in _alerts(conn, station)] == ["cleared"]


def test_rain_accumulated_over_24_hours_raises_the_long_rule_only(conn, sensors_db):
    gauge = [i for i, k in measuring_stations(conn) if k == "rain_gauge"][-2]
    start = 3 * 1440  # day 3: 9 mm every hour never makes 50 mm in one hour
    for h in range(11):
        _write_together(sensors_db, [[_reading(gauge, start + 60 * h, 9.0)]])
    assert _alerts(conn, gauge) == []  # 99 mm
    _write_together(sensors_db, [[_reading(gauge, start + 660, 9.0)]])
    [(rule, status, incident)] = _alerts(conn, gauge)
    assert (rule, status) == ("rain_heavy_24h", "raised") and incident is not None
    assert scalar(conn, "SELECT value FROM sensor_alerts WHERE rule_id = 'rain_heavy_24h' AND "
                  "status = 'raised' AND incident_id = %s", (incident,)) == 108.0
    # A day after the first hour the window holds 11 readings, 99 mm: cleared.
    _write_together(sensors_db, [[_reading(gauge, start + 1440, 0.0)]])
    assert [s for _, s, _ in _alerts(conn, gauge)] == ["cleared"]


def test_a_rule_for_some_communes_leaves_the_others_alone(conn):
    from sensors import alerts

    stations = [i for i, k in measuring_stations(conn) if k == "water_level"]
    with conn.cursor() as cur:
        cur.execute("SELECT s.id, s.commune_code, d.id FROM iot_stations s JOIN datastreams d ON "
                    "d.station_id = s.id WHERE s.id = ANY(%s) ORDER BY s.id", (stations,))
        rows = cur.fetchall()
    (_, commune, ds_a), (_, _, ds_b) = rows[0], next(r for r in rows if r[1] != rows[0][1])
    rule = alerts.Rule(id="t_local", property="water_level", kind="threshold", above=1.0,
                       communes=(commune,), title={"vi": "thử", "en": "test"})
    conn.autocommit = False
    try:
        with conn.cursor() as cur:
            # Written straight into the table: its month's partition is made first, as ingestion does.
            cur.execute("SELECT observation_partition(%s)", (T0 + timedelta(days=40),))
            cur.execute("INSERT INTO observations (datastream_id, phenomenon_time, result) VALUES "
                        "(%s, %s, 9), (%s, %s, 9)", (ds_a, T0 + timedelta(days=40), ds_b,
                                                      T0 + timedelta(days=40)))
            raised = alerts.evaluate(cur, [ds_a, ds_b], among=[rule])
            cur.execute("SELECT datastream_id FROM sensor_alerts WHERE id = ANY(%s)", (raised,))
            assert [r for (r,) in cur.fetchall()] == [ds_a]
    finally:
        conn.rollback()
        conn.autocommit = True


def test_a_bad_rule_stops_with_its_id_and_reason():
    import pytest

    from gis_core.errors import ConfigurationError
    from sensors import alerts

    assert {r.kind for r in alerts.rules()} == {"threshold", "rise", "sum", "silence"}
    for doc, reason in [
        ("- {id: x, property: rain, kind: rise, above: 1, title: {vi: a, en: b}}", "window_hours"),
        ("- {id: x, property: snow, kind: threshold, title: {vi: a, en: b}}", "snow"),
        ("- {id: x, property: rain, kind: silence, after_minutes: 30, title: {vi: a, en: b}, "
         "incident: {kind: flood}}", "no incident"),
        ("- {id: x, property: rain, kind: sum, window_hours: 1, colour: red, title: {vi: a, en: b}}",
         "colour"),
    ]:
        with pytest.raises(ConfigurationError, match=reason) as err:
            alerts.parse_rules(doc)
        assert "rule x" in err.value.message_en


def test_a_silent_station_is_found_by_the_periodic_job(conn, sensors_db, monkeypatch):
    import api.app  # noqa: F401 - the composition root declares every job, as the worker does
    from jobs.queue import _BLUEPRINTS
    from sensors.silence import silence

    schedule = {p.task.name.rpartition(":")[2]: p.cron  # named "sensors:…" once in the app
                for p in _BLUEPRINTS["sensors"].periodic_registry.periodic_tasks.values()}
    assert schedule["silence"] == "* * * * *"
    quiet = next(i for i, k in measuring_stations(conn) if k == "air_quality")
    talking = next(i for i, k in measuring_stations(conn) if k == "rain_gauge")
    # Off the simulator's 10-minute grid, so that the storm's counts stay its own, and older than
    # its last step by more than the layer's minute (the storm's readings then show on it).
    now = (datetime.now(UTC) - timedelta(minutes=1)).replace(second=7, microsecond=0)
    for m in (180, 150, 120):
        _write_together(sensors_db, [[(f"ioc/stations/{quiet}", json.dumps(
            {"phenomenonTime": (now - timedelta(minutes=m)).isoformat(), "result": 20.0}))]])
    _write_together(sensors_db, [[(f"ioc/stations/{talking}", json.dumps(
        {"phenomenonTime": (now - timedelta(minutes=20)).isoformat(), "result": 0.0}))]])
    assert _alerts(conn, quiet) == []  # arriving readings never raise a silence alert
    monkeypatch.setenv("DATABASE_URL", sensors_db)
    silence(0)  # what the worker runs every minute
    [(rule, status, incident)] = _alerts(conn, quiet)
    assert (rule, status, incident) == ("air_quality_silent", "raised", None)
    assert 120 <= scalar(conn, "SELECT value FROM sensor_alerts a JOIN datastreams d ON d.id = "
                         "a.datastream_id WHERE d.station_id = %s", (quiet,)) < 130
    assert [r for r, s, _ in _alerts(conn, talking) if s != "cleared"] == []
    assert scalar(conn, "SELECT status FROM iot_stations WHERE id = %s", (quiet,)) == "offline"
    silence(0)  # still silent: the same alert
    assert len(_alerts(conn, quiet)) == 1
    _write_together(sensors_db, [[(f"ioc/stations/{quiet}", json.dumps(
        {"phenomenonTime": (now - timedelta(minutes=15)).isoformat(), "result": 21.0}))]])
    assert [s for _, s, _ in _alerts(conn, quiet)] == ["cleared"]
    assert scalar(conn, "SELECT status FROM iot_stations WHERE id = %s", (quiet,)) == "online"


def _accounts(db: str, base: str) -> dict[str, dict[str, str]]:
    """Bearer headers of an operator, a viewer and editors of two departments."""
    import httpx

    from gis_core.db import engine_for
    from governance import accounts

    wanted = {"op-a": ("operator", None), "viewer-a": ("viewer", None),
              "nnmt-a": ("department_editor", "so_nn_mt"), "yte-a": ("department_editor", "so_y_te")}
    with engine_for(db).begin() as c:
        for name, (role, department) in wanted.items():
            accounts.create_account(c, username=name, role=role, password="Lai-Chau-2026-alerts",
                                    department=department)
    out = {}
    for name in wanted:
        r = httpx.post(f"{base}/api/v1/auth/token",
                       json={"username": name, "password": "Lai-Chau-2026-alerts"})
        assert r.status_code == 200, r.text
        out[name] = {"Authorization": f"Bearer {r.json()['access_token']}"}
    return out


def test_an_alert_is_acknowledged_once_over_http_then_clears_by_itself(conn, sensors_db, tmp_path):
    import httpx

    from tests.sensors.conftest import live_server

    station = [i for i, k in measuring_stations(conn) if k == "water_level"][2]
    _write_together(sensors_db, [[_reading(station, 50 * 1440, 4.5)]])
    [(rule, status, incident)] = _alerts(conn, station)
    assert (rule, status) == ("water_level_alarm2", "raised") and incident is not None
    alert = scalar(conn, "SELECT max(id) FROM sensor_alerts")
    seq = scalar(conn, "SELECT coalesce(max(seq), 0) FROM audit_log")
    with live_server(sensors_db, tmp_path) as base:
        who = _accounts(sensors_db, base)
        url = f"{base}/api/v1/sensors/alerts/{alert}/acknowledge"
        note = {"note": "Đã báo UBND xã, đội xung kích trực tại cầu"}
        anonymous = httpx.post(url, json=note)
        assert anonymous.status_code == 401
        for name, expected in (("viewer-a", 403), ("yte-a", 403)):
            r = httpx.post(url, json=note, headers=who[name])
            assert r.status_code == expected, r.text
            assert r.headers["content-type"].startswith("application/problem+json")
        assert "Sở Nông nghiệp và Môi trường" in r.json()["detail"]
        assert httpx.post(url, json={"note": "  "}, headers=who["op-a"]).status_code == 422
        # The operator and the department's editor press at the same moment: one wins.
        barrier = threading.Barrier(2)
        answers: dict[str, httpx.Response] = {}

        def press(name: str) -> None:
            with httpx.Client(headers=who[name], timeout=30) as client:
                barrier.wait()
                answers[name] = client.post(url, json={"note": f"{note['note']} ({name})"})

        threads = [threading.Thread(target=press, args=(n,)) for n in ("op-a", "nnmt-a")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        codes = sorted(r.status_code for r in answers.values())
        assert codes == [200, 409], {n: r.text for n, r in answers.items()}
        winner = next(n for n, r in answers.items() if r.status_code == 200)
        loser = answers["nnmt-a" if winner == "op-a" else "op-a"].json()
        assert winner in loser["detail"] and "đã được" in loser["detail"] and loser["detail_en"]
        body = answers[winner].json()
        assert body["status"] == "acknowledged" and body["acknowledged"]["by"] == winner
        # Staff read who and the note; the public stream says only when and which unit.
        detail = httpx.get(f"{base}/api/v1/sensors/alerts/{alert}", headers=who["viewer-a"]).json()
        assert detail["acknowledged"]["note"].endswith(f"({winner})")
        assert httpx.get(f"{base}/api/v1/sensors/alerts/{alert}").status_code == 401
        public = next(a for a in httpx.get(f"{base}/api/v1/sensors/latest").json()["alerts"]
                      if a["id"] == alert)
        assert public["status"] == "acknowledged" and set(public["acknowledged"]) == {"at", "unit"}
        assert public["acknowledged"]["unit"] == ("operator" if winner == "op-a" else "so_nn_mt")
        listed = httpx.get(f"{base}/api/v1/sensors/alerts?status=acknowledged",
                           headers=who["op-a"]).json()["alerts"]
        assert alert in [a["id"] for a in listed]
        # The river falls: the alert clears by itself; acknowledging it now is refused.
        _write_together(sensors_db, [[_reading(station, 50 * 1440 + 10, 3.0)]])
        gone = httpx.post(url, json=note, headers=who["op-a"])
        assert gone.status_code == 409 and "tự hết" in gone.json()["detail"]
        cleared = httpx.get(f"{base}/api/v1/sensors/alerts/{alert}", headers=who["op-a"]).json()
        assert cleared["status"] == "cleared" and cleared["cleared"]["value"] == 3.0
        assert cleared["acknowledged"]["by"] == winner  # the acknowledgement stays on record
    with conn.cursor() as cur:
        cur.execute("SELECT action, actor, outcome FROM audit_log WHERE seq > %s AND target = %s "
                    "ORDER BY seq", (seq, f"sensor_alerts/{alert}"))
        assert cur.fetchall() == [("sensor_alert.denied", "yte-a", "denied"),
                                  ("sensor_alert.acknowledge", winner, "ok")]
    timeline = _timeline(conn, incident)
    assert any(n.startswith("Đã xác nhận cảnh báo") and n.endswith(f"({winner})") for n in timeline)
    assert timeline[-1].startswith("Hết cảnh báo (tự động)")


# Last in the module: its readings are the latest of every station, up to now.
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
                    "AND date_part('second', o.phenomenon_time) = 0 GROUP BY d.station_id", (silent,))
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
