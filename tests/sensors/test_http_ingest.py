"""Observations posted over real HTTP with a station's API key (a batch, SensorThings
``CreateObservations`` through frost-sta-client and the spec's exact request), published after
commit on the SensorThings MQTT topics to a real paho subscriber, whatever the path; late data
for a month without a partition; aggregates in SQL, the same after the raw month is dropped."""

from __future__ import annotations

import json
import queue
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import frost_sta_client as fsc
import httpx
import paho.mqtt.client as mqtt
import psycopg2
import pytest
from frost_sta_client.model.ext.data_array_document import DataArrayDocument
from frost_sta_client.model.ext.data_array_value import DataArrayValue
from frost_sta_client.service.auth_handler import AuthHandler

from tests.conftest import serving
from tests.sensors.conftest import measuring_stations, scalar
from tests.sensors.test_ingest import publish

pytestmark = pytest.mark.filterwarnings("ignore:furl.pathstr is deprecated:DeprecationWarning")
PREFIX = f"ioc-test-{uuid.uuid4().hex[:8]}/"


@pytest.fixture(scope="module")
def served(sensors_db, tmp_path_factory):
    """The platform served with its own SensorThings topic prefix; two stations, a key each."""
    from gis_core.db import engine_for
    from governance import accounts

    conn = psycopg2.connect(sensors_db)
    conn.autocommit = True
    stations = measuring_stations(conn)
    gauge = next(i for i, k in stations if k == "rain_gauge")
    level = next(i for i, k in stations if k == "water_level")
    with engine_for(sensors_db).begin() as c:
        _, key_gauge = accounts.create_api_client(c, username="t-tram-mua", scopes=(f"observe:{gauge}",))
        _, key_level = accounts.create_api_client(c, username="t-tram-nuoc",
                                                  scopes=(f"observe:{level}",))
    with serving(sensors_db, tmp_path_factory.mktemp("http") / "var", sta_mqtt_prefix=PREFIX) as url:
        yield {"url": url, "db": sensors_db, "conn": conn, "gauge": gauge, "level": level,
               "key_gauge": key_gauge, "key_level": key_level}
    conn.close()


def _datastream(conn, station: int) -> int:
    return scalar(conn, "SELECT id FROM datastreams WHERE station_id = %s", (station,))


def _count(conn, station: int) -> int:
    return scalar(conn, "SELECT count(*) FROM observations o JOIN datastreams d ON "
                  "d.id = o.datastream_id WHERE d.station_id = %s", (station,))


class Subscriber:
    """A paho client subscribed to one datastream's SensorThings topic."""

    def __init__(self, datastream: int):
        self.messages: queue.Queue[tuple[str, dict]] = queue.Queue()
        self.topic = f"{PREFIX}v1.1/Datastreams({datastream})/Observations"
        subscribed = queue.Queue()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.on_message = lambda _c, _u, m: self.messages.put((m.topic, json.loads(m.payload)))
        self.client.on_subscribe = lambda *_: subscribed.put(True)
        self.client.connect("127.0.0.1", 1883)
        self.client.loop_start()
        self.client.subscribe(self.topic, qos=1)
        subscribed.get(timeout=10)

    def take(self, n: int) -> list[dict]:
        return [self.messages.get(timeout=20)[1] for _ in range(n)]

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def test_a_batch_is_stored_once_and_answered_item_by_item(served):
    url, conn, gauge = served["url"], served["conn"], served["gauge"]
    headers = {"X-API-Key": served["key_gauge"]}
    base = datetime(2026, 8, 1, 0, 0, tzinfo=UTC)
    body = [{"station": gauge, "phenomenonTime": (base + timedelta(minutes=10 * k)).isoformat(),
             "result": 0.5 + k} for k in range(5)]
    bad = [{"station": gauge, "phenomenonTime": base.isoformat(), "result": 999},
           {"station": "x", "phenomenonTime": base.isoformat(), "result": 1}]
    r = httpx.post(f"{url}/api/v1/sensors/observations", json=body + bad, headers=headers)
    assert r.status_code == 200, r.text
    answer = r.json()
    assert (answer["stored"], answer["duplicates"], answer["refused"]) == (5, 0, 2)
    ids = [i["id"] for i in answer["items"][:5]]
    assert "physical range" in answer["items"][5]["error"]
    assert "station" in answer["items"][6]["error"]
    again = httpx.post(f"{url}/api/v1/sensors/observations", json=body, headers=headers).json()
    assert (again["stored"], again["duplicates"]) == (0, 5)
    assert [i["id"] for i in again["items"]] == ids  # a resent observation keeps its id
    assert scalar(conn, "SELECT count(*) FROM observations WHERE id = ANY(%s)", (ids,)) == 5
    assert scalar(conn, "SELECT count(*) FROM observation_quarantine WHERE topic LIKE 'http/%%'") == 2


def test_concurrent_resends_store_each_observation_once(served):
    url, conn, level = served["url"], served["conn"], served["level"]
    base = datetime(2026, 8, 2, 0, 0, tzinfo=UTC)
    body = [{"station": level, "phenomenonTime": (base + timedelta(minutes=k)).isoformat(),
             "result": 1.2} for k in range(200)]
    before = _count(conn, level)

    def post(_: int) -> dict:
        return httpx.post(f"{url}/api/v1/sensors/observations", json=body,
                          headers={"X-API-Key": served["key_level"]}, timeout=60).json()

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(post, range(4)))
    assert sum(a["stored"] for a in answers) == 200
    assert sum(a["duplicates"] for a in answers) == 600
    assert len({tuple(i["id"] for i in a["items"]) for a in answers}) == 1
    assert _count(conn, level) == before + 200


def test_a_key_for_one_station_posts_nothing_for_another(served):
    url, conn, gauge, level = served["url"], served["conn"], served["gauge"], served["level"]
    t = datetime(2026, 8, 3, 0, 0, tzinfo=UTC).isoformat()
    counts = (_count(conn, gauge), _count(conn, level),
              scalar(conn, "SELECT count(*) FROM observation_quarantine"))
    r = httpx.post(f"{url}/api/v1/sensors/observations", headers={"X-API-Key": served["key_gauge"]},
                   json=[{"station": gauge, "phenomenonTime": t, "result": 1},
                         {"station": level, "phenomenonTime": t, "result": 1}])
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert str(level) in problem["detail"] and "observe:" in problem["detail_en"]
    ds = _datastream(conn, level)
    r = httpx.post(f"{url}/sta/v1.1/CreateObservations", headers={"X-API-Key": served["key_gauge"]},
                   json=[{"Datastream": {"@iot.id": ds}, "components": ["phenomenonTime", "result"],
                          "dataArray": [[t, 1.0]]}])
    assert r.status_code == 403
    assert (_count(conn, gauge), _count(conn, level),
            scalar(conn, "SELECT count(*) FROM observation_quarantine")) == counts
    r = httpx.post(f"{url}/api/v1/sensors/observations", json=[])
    assert r.status_code == 401 and "X-API-Key" in r.json()["detail_en"]


class KeyAuth(AuthHandler):
    """frost-sta-client's authentication hook, sending the station's API key."""

    def __init__(self, key: str):
        super().__init__()
        self.key = key

    def add_auth_header(self):  # noqa: ANN201 - what requests takes as ``auth``
        def auth(r):  # noqa: ANN001, ANN202
            r.headers["X-API-Key"] = self.key
            return r
        return auth


def test_create_observations_with_the_sensorthings_client(served):
    url, conn, level = served["url"], served["conn"], served["level"]
    ds = _datastream(conn, level)
    service = fsc.SensorThingsService(f"{url}/sta/v1.1", auth_handler=KeyAuth(served["key_level"]))
    stream = service.datastreams().find(ds)
    dav = DataArrayValue()
    dav.datastream = stream
    dav.components = {DataArrayValue.Property.PHENOMENON_TIME, DataArrayValue.Property.RESULT}
    base = datetime(2026, 8, 4, 0, 0, tzinfo=UTC)
    for k, value in enumerate((2.0, 2.1, 99.0, 2.3)):  # 99 m: out of the physical range
        dav.add_observation(fsc.Observation(result=value, phenomenon_time=base + timedelta(hours=k),
                                            datastream=stream))
    doc = DataArrayDocument()
    doc.add_data_array_value(dav)
    created = service.observations().create(doc)
    links = [o.self_link for o in created]
    assert links[2] == "error"
    assert all(link.startswith(f"{url}/sta/v1.1/Observations(") for i, link in enumerate(links)
               if i != 2)
    back = httpx.get(links[1]).json()
    assert back["result"] == 2.1 and back["phenomenonTime"] == "2026-08-04T01:00:00Z"
    assert scalar(conn, "SELECT reason FROM observation_quarantine WHERE topic = 'sta/' || %s "
                  "ORDER BY id DESC LIMIT 1", (str(level),)).startswith("result 99")
    assert service.observations().create(doc)[1].self_link == links[1]  # resent: same link


def test_create_observations_the_exact_request_of_the_spec(served):
    """OGC 18-088 §14.2.2: components with FeatureOfInterest/id, answer a JSON array."""
    url, conn, gauge = served["url"], served["conn"], served["gauge"]
    ds = _datastream(conn, gauge)
    body = [{"Datastream": {"@iot.id": ds},
             "components": ["phenomenonTime", "result", "FeatureOfInterest/id"],
             "dataArray": [["2026-08-05T10:00:00Z", 20, gauge],
                           ["2026-08-05T10:10:00Z", 30, gauge],
                           ["2026-08-05T10:20:00Z", 1, gauge + 100000],
                           ["2026-08-05T10:30:00Z", 5]]},
            {"Datastream": {"@iot.id": 987654}, "components": ["phenomenonTime", "result"],
             "dataArray": [["2026-08-05T10:00:00Z", 1]]}]
    r = httpx.post(f"{url}/sta/v1.1/CreateObservations", json=body,
                   headers={"X-API-Key": served["key_gauge"]})
    assert r.status_code == 201, r.text
    answer = r.json()
    assert answer[2:] == ["error", "error", "error"]
    assert all(a.startswith(f"{url}/sta/v1.1/Observations(") for a in answer[:2])
    r = httpx.post(f"{url}/sta/v1.1/CreateObservations", json={"dataArray": []},
                   headers={"X-API-Key": served["key_gauge"]})
    assert r.status_code == 400 and r.json()["detail_en"].startswith("The CreateObservations body")


def test_posted_observations_go_through_the_rules(served):
    """The same hook as over MQTT: a posted reading above a rule raises an alert (and its
    incident) once committed, a later one below clears it."""
    url, conn, level = served["url"], served["conn"], served["level"]
    ds = _datastream(conn, level)
    headers = {"X-API-Key": served["key_level"]}
    httpx.post(f"{url}/api/v1/sensors/observations", headers=headers,
               json=[{"station": level, "phenomenonTime": "2026-08-10T00:00:00Z", "result": 5.5}])
    assert scalar(conn, "SELECT count(*) FROM sensor_alerts WHERE datastream_id = %s AND "
                  "status = 'raised' AND incident_id IS NOT NULL", (ds,)) == 1
    httpx.post(f"{url}/api/v1/sensors/observations", headers=headers,
               json=[{"station": level, "phenomenonTime": "2026-08-10T00:10:00Z", "result": 1.0}])
    assert scalar(conn, "SELECT count(*) FROM sensor_alerts WHERE datastream_id = %s AND "
                  "status <> 'cleared'", (ds,)) == 0


def test_every_path_publishes_on_the_sensorthings_topic_after_commit(served, listener, root):
    """A subscriber on v1.1/Datastreams(id)/Observations receives what MQTT, an HTTP batch and
    CreateObservations stored, as the JSON a GET answers; a duplicate is not published again."""
    from api.cli_iot import open_incident
    from sensors.sta_mqtt import Publisher
    from sensors.store import Store

    url, conn, gauge = served["url"], served["conn"], served["gauge"]
    ds = _datastream(conn, gauge)
    sub = Subscriber(ds)
    publisher = Publisher("mqtt://127.0.0.1:1883", f"{url}/sta/v1.1", PREFIX)
    try:
        listener(store=Store(open_incident, root, publish=publisher))
        headers = {"X-API-Key": served["key_gauge"]}
        publish(root, [(gauge, {"phenomenonTime": "2026-08-06T00:00:00Z", "result": 1.5})])
        [via_mqtt] = sub.take(1)
        assert via_mqtt["result"] == 1.5 and via_mqtt["phenomenonTime"] == "2026-08-06T00:00:00Z"
        assert httpx.get(via_mqtt["@iot.selfLink"]).json()["@iot.id"] == via_mqtt["@iot.id"]
        batch = [{"station": gauge, "phenomenonTime": "2026-08-06T00:10:00Z", "result": 2.5}]
        httpx.post(f"{url}/api/v1/sensors/observations", json=batch, headers=headers)
        [via_http] = sub.take(1)
        assert via_http["result"] == 2.5
        httpx.post(f"{url}/api/v1/sensors/observations", json=batch, headers=headers)  # resent
        httpx.post(f"{url}/sta/v1.1/CreateObservations", headers=headers, json=[
            {"Datastream": {"@iot.id": ds}, "components": ["phenomenonTime", "result"],
             "dataArray": [["2026-08-06T00:20:00Z", 3.5]]}])
        [via_sta] = sub.take(1)
        assert via_sta["result"] == 3.5  # the resent batch published nothing
        assert via_sta == httpx.get(via_sta["@iot.selfLink"]).json()  # as a GET answers
        assert sub.messages.empty()
    finally:
        sub.close()
        publisher.close()


def test_late_data_for_a_month_without_partition_is_stored(served):
    url, conn, gauge = served["url"], served["conn"], served["gauge"]
    assert scalar(conn, "SELECT to_regclass('observations_2018_02')") is None
    r = httpx.post(f"{url}/api/v1/sensors/observations", headers={"X-API-Key": served["key_gauge"]},
                   json=[{"station": gauge, "phenomenonTime": "2018-02-10T03:00:00+07:00",
                          "result": 4.0}])
    assert r.json()["stored"] == 1
    assert scalar(conn, "SELECT to_regclass('observations_2018_02')::text") == "observations_2018_02"


def test_aggregates_by_hour_day_month_and_after_the_raw_month_is_dropped(served):
    from sensors import maintenance

    url, conn, level = served["url"], served["conn"], served["level"]
    ds = _datastream(conn, level)
    # Two days of 10-minute readings in March 2020 (local days of UTC+7).
    start = datetime(2020, 3, 1, 0, 0, tzinfo=UTC) - timedelta(hours=7)
    body = [{"station": level, "phenomenonTime": (start + timedelta(minutes=10 * k)).isoformat(),
             "result": round(1 + (k % 6) / 10, 2)} for k in range(288)]
    r = httpx.post(f"{url}/api/v1/sensors/observations", json=body,
                   headers={"X-API-Key": served["key_level"]})
    assert r.json()["stored"] == 288
    params = {"start": "2020-03-01T00:00:00+07:00", "end": "2020-03-03T00:00:00+07:00"}
    agg = f"{url}/api/v1/sensors/datastreams/{ds}/aggregates"
    hours = httpx.get(agg, params={**params, "grain": "hour"}).json()["buckets"]
    assert len(hours) == 48
    assert hours[0] == {"time": "2020-02-29T17:00:00+00:00", "count": 6, "min": 1.0, "max": 1.5,
                        "sum": pytest.approx(7.5), "mean": pytest.approx(1.25)}
    days = httpx.get(agg, params={**params, "grain": "day"}).json()
    assert days["timezone"] == "Asia/Ho_Chi_Minh" and days["unit"] == "m"
    assert [(b["time"], b["count"]) for b in days["buckets"]] == [
        ("2020-02-29T17:00:00+00:00", 144), ("2020-03-01T17:00:00+00:00", 144)]
    month = httpx.get(agg, params={**params, "grain": "month"}).json()["buckets"]
    assert [(b["count"], b["min"], b["max"]) for b in month] == [(288, 1.0, 1.5)]
    assert month[0]["sum"] == pytest.approx(288 * 1.25)

    # Raw months before 2020-04 dropped (the policy, at a chosen moment): the hourly roll-ups
    # answer the same.
    job = psycopg2.connect(served["db"])
    with job.cursor() as cursor:
        report = maintenance.run(cursor, maintenance.Policy(raw_months=1, hourly_months=120),
                                 now=datetime(2020, 4, 15, tzinfo=UTC))
    job.close()
    assert {"observations_2020_02", "observations_2020_03"} <= set(report.dropped)
    assert report.hours >= 48
    assert scalar(conn, "SELECT to_regclass('observations_2020_03')") is None
    assert httpx.get(agg, params={**params, "grain": "hour"}).json()["buckets"] == hours
    assert httpx.get(agg, params={**params, "grain": "day"}).json()["buckets"] == days["buckets"]
    r = httpx.get(agg, params={"start": "2020-03-01T00:00:00", "end": "2020-03-02T00:00:00Z"})
    assert r.status_code == 400 and r.headers["content-type"].startswith("application/problem+json")


def test_the_maintenance_is_on_the_workers_schedule_and_its_policy_is_checked(tmp_path):
    import api.app  # noqa: F401 - what the worker imports
    from jobs.queue import _BLUEPRINTS
    from sensors import maintenance

    schedule = {p.task.name.rpartition(":")[2]: p.cron  # named "sensors:…" once in the app
                for p in _BLUEPRINTS["sensors"].periodic_registry.periodic_tasks.values()}
    assert schedule["maintain"] == "7 * * * *"
    assert maintenance.policy() == maintenance.Policy(raw_months=24, hourly_months=120,
                                                      ahead_months=2)
    bad = tmp_path / "retention.yaml"
    bad.write_text("raw_months: 24\nhourly_months: 12\n", encoding="utf-8")
    with pytest.raises(ValueError, match="hourly_months"):
        maintenance.policy(bad)
    assert maintenance.month(datetime(2026, 12, 7, tzinfo=UTC), 2) == datetime(2027, 2, 1, tzinfo=UTC)
    assert maintenance.month(datetime(2026, 1, 31, 20, tzinfo=UTC), -1) == \
        datetime(2025, 12, 1, tzinfo=UTC)
