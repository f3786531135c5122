"""MQTT in, PostgreSQL: stored once, whatever the broker redelivers; bad payloads quarantined."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as mqtt

from tests.sensors.conftest import measuring_stations, scalar, wait_for


def publish(root: str, messages: list[tuple[int | str, object]]) -> None:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.connect("127.0.0.1", 1883)
    client.loop_start()
    infos = [client.publish(f"{root}/{station}", p if isinstance(p, bytes | str) else json.dumps(p),
                            qos=1) for station, p in messages]
    for info in infos:
        info.wait_for_publish(timeout=30)
    client.loop_stop()
    client.disconnect()


def _count(conn, station: int) -> int:
    return scalar(conn, "SELECT count(*) FROM observations o JOIN datastreams d "
                  "ON d.id = o.datastream_id WHERE d.station_id = %s", (station,))


def test_published_readings_are_stored_with_duplicates_changing_nothing(conn, listener, root):
    x = listener()
    station = next(i for i, k in measuring_stations(conn) if k == "water_level")
    base = datetime(2026, 7, 1, 3, 0, tzinfo=UTC)
    readings = [{"phenomenonTime": (base + timedelta(minutes=10 * k)).isoformat(), "result": 1.5 + k / 100}
                for k in range(30)]
    publish(root, [(station, r) for r in readings])
    publish(root, [(station, r) for r in readings[:10]])  # sent again, as after a lost PUBACK
    publish(root, [(station, {**readings[0], "result": 9.9})])  # same time, another value
    wait_for(lambda: x.totals.stored + x.totals.duplicates >= 41)
    assert _count(conn, station) == 30
    assert x.totals.duplicates == 11
    assert scalar(conn, "SELECT result FROM observations o JOIN datastreams d ON d.id = "
                  "o.datastream_id WHERE d.station_id = %s AND phenomenon_time = %s",
                  (station, base)) == 1.5


def test_unacknowledged_messages_come_again_and_are_stored_once(conn, listener, root, sensors_db):
    """The first worker stops before committing (nothing acknowledged): the broker delivers the
    messages again to the same persistent session, and they are stored once."""
    from api.cli_iot import open_incident
    from sensors.store import Store

    class Failing(Store):
        def write(self, cursor, messages):
            raise RuntimeError("database gone")

    station = next(i for i, k in measuring_stations(conn) if k == "rain_gauge")
    client_id = f"redelivery-{root.split('/')[0]}"
    failing = listener(client_id=client_id, store=Failing(open_incident, root))
    base = datetime(2026, 7, 2, 0, 0, tzinfo=UTC)
    publish(root, [(station, {"phenomenonTime": (base + timedelta(minutes=k)).isoformat(),
                              "result": 0.5}) for k in range(20)])
    wait_for(lambda: failing.received >= 20, 10)
    failing.stop()
    assert _count(conn, station) == 0
    again = listener(client_id=client_id)
    wait_for(lambda: again.totals.stored >= 20)
    assert _count(conn, station) == 20


def test_bad_payloads_are_quarantined_with_the_reason(conn, listener, root):
    x = listener()
    stations = measuring_stations(conn)
    gauge = next(i for i, k in stations if k == "rain_gauge")
    now = datetime.now(UTC)
    publish(root, [
        (gauge, b"{not json"),
        (999999, {"phenomenonTime": now.isoformat(), "result": 1}),
        ("camera", {"phenomenonTime": now.isoformat(), "result": 1}),
        (gauge, {"phenomenonTime": (now + timedelta(days=2)).isoformat(), "result": 1}),
        (gauge, {"phenomenonTime": now.isoformat(), "result": -3}),
        (gauge, {"phenomenonTime": "2026-07-01T10:00:00", "result": 1}),
        (gauge, {"phenomenonTime": now.isoformat(), "result": "12"}),
        (gauge, [{"phenomenonTime": now.isoformat(), "result": 2.5}, {"result": 1}]),
    ])
    wait_for(lambda: x.totals.refused >= 8)
    with conn.cursor() as cur:
        cur.execute("SELECT reason FROM observation_quarantine WHERE topic LIKE %s ORDER BY id",
                    (root + "/%",))
        reasons = [r for (r,) in cur.fetchall()]
    assert len(reasons) == 8
    assert reasons[0].startswith("malformed JSON")
    assert "unknown station" in reasons[1] and "unknown station" in reasons[2]
    assert "future" in reasons[3]
    assert "physical range" in reasons[4]
    assert "UTC offset" in reasons[5]
    assert "finite number" in reasons[6]
    assert "phenomenonTime" in reasons[7]
    kept = scalar(conn, "SELECT array_agg(result) FROM observations o JOIN datastreams d ON "
                  "d.id = o.datastream_id WHERE d.station_id = %s AND phenomenon_time = %s",
                  (gauge, now))
    assert kept == [2.5]  # the valid item of the list is kept, nothing else at that time
