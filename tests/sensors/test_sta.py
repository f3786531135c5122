"""SensorThings API 1.1 read back with the SensorThings client of PyPI (frost-sta-client) and
the exact URLs it sends."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import frost_sta_client as fsc
import httpx
import pytest

from tests.sensors.conftest import live_server, measuring_stations

# The client serialises its URL through a furl property deprecated upstream.
pytestmark = pytest.mark.filterwarnings("ignore:furl.pathstr is deprecated:DeprecationWarning")
BASE = datetime(2026, 6, 15, 0, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def sta(sensors_db, tmp_path_factory):
    """A served platform with 48 readings of one water-level station and 6 of a rain gauge."""
    import psycopg2

    from sensors.store import Store

    conn = psycopg2.connect(sensors_db)
    stations = measuring_stations(conn)
    level = next(i for i, k in stations if k == "water_level")
    gauge = next(i for i, k in stations if k == "rain_gauge")
    messages = [(f"ioc/stations/{level}", json.dumps(
        {"phenomenonTime": (BASE + timedelta(minutes=30 * k)).isoformat(), "result": 1.0 + k / 20}))
        for k in range(48)]
    messages += [(f"ioc/stations/{gauge}", json.dumps(
        [{"phenomenonTime": (BASE + timedelta(minutes=10 * k)).isoformat(), "result": 2.0}
         for k in range(6)]))]
    with conn.cursor() as cur:
        Store().write(cur, messages)
    conn.close()
    with live_server(sensors_db, tmp_path_factory.mktemp("sta")) as url:
        yield url + "/sta/v1.1", level, gauge


def test_the_client_reads_things_datastreams_and_observations(sta):
    url, level, _ = sta
    service = fsc.SensorThingsService(url)
    things = list(service.things().query().filter(f"id eq {level}").expand("Datastreams").list())
    assert len(things) == 1
    thing = things[0]
    assert thing.properties["kind"] == "water_level"
    [stream] = thing.datastreams.entities
    assert stream.unit_of_measurement.symbol == "m"
    observations = stream.get_observations().query().orderby("phenomenonTime", "ASC").top(10).list()
    values = [o.result for o in observations]  # iterating follows @iot.nextLink
    assert len(values) == 48
    assert values[:3] == [1.0, 1.05, 1.1]
    assert observations.get(0).phenomenon_time == "2026-06-15T00:00:00Z"
    found = service.datastreams().find(stream.id)
    assert found.phenomenon_time == "2026-06-15T00:00:00Z/2026-06-15T23:30:00Z"
    assert found.name.endswith(thing.name)


def test_the_client_filters_counts_and_expands(sta):
    url, level, gauge = sta
    service = fsc.SensorThingsService(url)
    over = service.observations().query().filter(
        f"Datastream/Thing/id eq {level} and result gt 2.5 and "
        "phenomenonTime ge 2026-06-15T12:00:00Z").count().orderby("result", "DESC").list()
    assert over.count == 17  # 2.55 … 3.35
    assert over.get(0).result == pytest.approx(3.35)
    rain = service.things().query().filter(f"properties/kind eq 'rain_gauge' and id eq {gauge}") \
        .expand("Datastreams($expand=ObservedProperty,Sensor;$select=id,name),Locations").list()
    thing = rain.get(0)
    assert thing.locations.get(0).location["type"] == "Point"
    ds = thing.datastreams.get(0)
    assert ds.observed_property.name == "Lượng mưa (10 phút)"
    assert ds.sensor.name == "Trạm đo mưa tự động"
    props = service.observed_properties().query().list()
    assert {p.name for p in props} >= {"Mực nước", "Lượng mưa (10 phút)"}


def test_the_exact_urls_of_the_client(sta):
    url, level, _ = sta
    # Query.list() and BaseDao.find() build these (furl, parameters in order of the calls).
    r = httpx.get(f"{url}/Things({level})/Datastreams", params={"$top": 1, "$count": "true"})
    body = r.json()
    assert r.status_code == 200 and body["@iot.count"] == 1 and "@iot.nextLink" not in body
    ds = body["value"][0]["@iot.id"]
    r = httpx.get(f"{url}/Datastreams({ds})/Observations?$top=2&$skip=46&$orderby=phenomenonTime%20asc")
    assert [o["result"] for o in r.json()["value"]] == [pytest.approx(3.3), pytest.approx(3.35)]
    r = httpx.get(f"{url}/Observations?$filter=Datastream/id%20eq%20{ds}&$top=1"
                  "&$orderby=phenomenonTime%20desc&$expand=FeatureOfInterest")
    obs = r.json()["value"][0]
    assert obs["phenomenonTime"] == "2026-06-15T23:30:00Z"
    assert obs["FeatureOfInterest"]["feature"]["type"] == "Point"
    assert httpx.get(f"{url}/Datastreams({ds})/Thing").json()["@iot.id"] == level
    root = httpx.get(url).json()
    assert {v["name"] for v in root["value"]} >= {"Things", "Datastreams", "Observations"}


def test_bad_queries_answer_problem_details(sta):
    url, _, _ = sta
    for query, parameter in (("$filter=result%20gt", "$filter"), ("$top=-1", "$top"),
                             ("$filter=nosuch%20eq%201", "$filter"), ("$orderby=result%20up", "$orderby"),
                             ("$expand=Nothing", "$expand"), ("$apply=x", "$apply")):
        r = httpx.get(f"{url}/Observations?{query}")
        assert r.status_code == 400, query
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json().get("parameter", parameter) == parameter
    r = httpx.get(f"{url}/Things(99999999)")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")


def test_the_live_stream_pushes_latest_values_and_a_new_alert(sta, sensors_db):
    """What the situation view receives (server-sent events): the latest readings, then, without
    asking again, the alert raised by a reading that crosses the rule."""
    import psycopg2

    from api.cli_iot import open_incident
    from sensors.store import Store

    url, level, _ = sta
    base = url.removesuffix("/sta/v1.1")
    events = []
    with httpx.stream("GET", f"{base}/api/v1/sensors/stream", timeout=30) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        lines = r.iter_lines()
        for line in lines:
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
                break
        first = events[0]
        [station] = [s for s in first["stations"] if s["id"] == level]
        assert station["value"] == pytest.approx(3.35) and station["unit"] == "m"
        assert not [a for a in first["alerts"] if a["station"] == level]
        conn = psycopg2.connect(sensors_db)
        with conn.cursor() as cur:
            Store(open_incident).write(cur, [(f"ioc/stations/{level}", json.dumps(
                {"phenomenonTime": "2026-06-16T00:00:00Z", "result": 4.6}))])
        conn.close()
        # The alert is committed before its incident: an update may show it without one first.
        deadline = time.monotonic() + 60
        for line in lines:
            if line.startswith("data: "):
                update = json.loads(line[6:])
                if any(a["station"] == level and a["incident"] for a in update["alerts"]):
                    break
            if time.monotonic() > deadline:
                break
    # 3.35 m to 4.6 m: over alarm II, and a rise of more than 1 m within the hour.
    mine = {a["rule"]: a for a in update["alerts"] if a["station"] == level}
    assert set(mine) <= {"water_level_alarm2", "water_level_rise_1h"}
    alert = mine["water_level_alarm2"]
    assert alert["incident"] is not None and alert["status"] == "raised" and not alert["acknowledged"]
    assert alert["title"]["vi"].startswith("Mực nước vượt báo động II")
    latest = httpx.get(f"{base}/api/v1/sensors/latest").json()
    assert [s["value"] for s in latest["stations"] if s["id"] == level] == [4.6]
