"""Harvesting from sources served on 127.0.0.1: a GeoJSON that changes, a CSV, JSON records, and
every way a source fails (the last good data stays, the source shows stale since the first
failure)."""

from __future__ import annotations

import json
import threading
import time

import pytest

from gis_core.errors import ConflictError
from harvest import declarations, run, sources


def _places(engine, n: int) -> list[tuple[float, float]]:  # noqa: ANN001
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM communes "
            "ORDER BY code LIMIT %(n)s) s", {"n": n}).all()
    return [(round(x, 6), round(y, 6)) for x, y in rows]


def _schools(places: list[tuple[float, float]], **changes: dict) -> str:
    features = []
    for n, (x, y) in enumerate(places):
        props = {"ma": f"GD-{n:03d}", "ten": f"Trường Tiểu học Số {n} Mường Tè", "cap": "primary",
                 "hoc_sinh": 100 + n}
        props.update(changes.get(props["ma"], {}))
        if props.pop("drop", False):
            continue
        features.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [x, y]},
                         "properties": props})
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)


def _declare(engine, **values) -> declarations.Declaration:  # noqa: ANN001
    decl = declarations.from_dict(values)
    with engine.begin() as conn:
        sources.put(conn, decl, "test")
    return decl


MAPPING = {"name": "ten", "level": "cap", "students": "hoc_sinh"}


def _history(engine, job: int) -> dict[str, int]:  # noqa: ANN001
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT op, count(*) FROM feature_history WHERE source = %(s)s GROUP BY op",
            {"s": f"import:{job}"}).all()
    return dict(rows)


def _rows(engine, dataset: str) -> dict[str, tuple]:  # noqa: ANN001
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT source_key, name, students, ST_AsText(geom) FROM schools "
            "WHERE source_dataset = %(d)s", {"d": dataset}).all()
    return {r[0]: tuple(r[1:]) for r in rows}


def test_harvest_reharvest_and_a_source_change(engine, site) -> None:  # noqa: ANN001
    places = _places(engine, 6)
    url = site.put("/gd/truong.geojson", _schools(places[:5]), "application/geo+json")
    decl = _declare(engine, name="gd-truong", layer="schools", kind="geojson", url=url, key="ma",
                    mapping=MAPPING)
    first = run.run_source(engine, "gd-truong", "test")
    assert (first["status"], first["added"], first["changed"], first["removed"]) == \
        ("imported", 5, 0, 0)
    rows = _rows(engine, decl.dataset)
    assert rows["GD-001"][0] == "Trường Tiểu học Số 1 Mường Tè"

    again = run.run_source(engine, "gd-truong", "test")
    assert (again["status"], again["added"], again["changed"], again["removed"]) == \
        ("unchanged", 0, 0, 0)
    assert _rows(engine, decl.dataset) == rows
    assert _history(engine, again["import_job"]) == {}

    # The department renames one school, moves another, closes a third and opens a new one.
    moved = places[5]
    changed = _schools(places[:5], **{"GD-001": {"ten": "Trường Tiểu học Hữu Nghị"},
                                      "GD-002": {}, "GD-003": {"drop": True}})
    data = json.loads(changed)
    data["features"][2]["geometry"]["coordinates"] = list(moved)  # GD-002
    data["features"].append({"type": "Feature", "geometry": {
        "type": "Point", "coordinates": list(places[4])}, "properties": {
            "ma": "GD-099", "ten": "Trường Mầm non Hoa Ban", "cap": "preschool", "hoc_sinh": 60}})
    site.put("/gd/truong.geojson", json.dumps(data, ensure_ascii=False), "application/geo+json")
    third = run.run_source(engine, "gd-truong", "test")
    assert (third["added"], third["changed"], third["removed"]) == (1, 2, 1)
    assert _history(engine, third["import_job"]) == {"insert": 1, "update": 2, "delete": 1}
    after = _rows(engine, decl.dataset)
    assert set(after) == {"GD-000", "GD-001", "GD-002", "GD-004", "GD-099"}
    assert after["GD-001"][0] == "Trường Tiểu học Hữu Nghị"
    assert after["GD-002"][2] == f"POINT({moved[0]} {moved[1]})"
    assert after["GD-000"] == rows["GD-000"] and after["GD-004"] == rows["GD-004"]
    with engine.connect() as conn:
        state = sources.get(conn, "gd-truong")
    assert state["state"] == "ok" and [r["status"] for r in state["runs"]] == \
        ["imported", "unchanged", "imported"]


def _failure(engine, name: str) -> tuple[dict, dict]:  # noqa: ANN001
    result = run.run_source(engine, name, "test")
    with engine.connect() as conn:
        return result, sources.get(conn, name)


def test_a_failing_source_keeps_the_last_good_data(engine, site) -> None:  # noqa: ANN001
    places = _places(engine, 4)
    good = _schools(places)
    url = site.put("/so/truong.geojson", good, "application/geo+json")
    decl = _declare(engine, name="so-truong", layer="schools", kind="geojson", url=url, key="ma",
                    mapping=MAPPING, max_features=10, timeout_seconds=1)
    assert run.run_source(engine, "so-truong", "test")["added"] == 4
    kept = _rows(engine, decl.dataset)

    site.put("/so/truong.geojson", "<html><body>Bảo trì hệ thống</body></html>", "text/html")
    result, state = _failure(engine, "so-truong")
    assert result["status"] == "failed" and "HTML" in result["error_en"]
    assert state["state"] == "stale" and state["failing_since"] is not None
    assert "since" in state["message"]["en"] and "từ" in state["message"]["vi"]
    since = state["failing_since"]

    bad = json.loads(good)
    bad["features"].append(bad["features"][0])
    for body, why in [
        (json.dumps(bad), "duplicates row"),
        (_schools(places * 3), "more than 10 features"),
        (good.replace('"hoc_sinh"', '"so_hs"'), "names 'hoc_sinh', absent from the file"),
    ]:
        site.put("/so/truong.geojson", body, "application/geo+json")
        result, state = _failure(engine, "so-truong")
        assert result["status"] == "failed" and why in (result["error_en"] or ""), result
        assert state["failing_since"] == since
    site.put("/so/truong.geojson", good, "application/geo+json", delay=3)
    result, _ = _failure(engine, "so-truong")
    assert "did not answer within 1 s" in result["error_en"]
    site.stop()
    result, state = _failure(engine, "so-truong")
    assert "Cannot reach the source" in result["error_en"]
    assert state["state"] == "stale" and state["failing_since"] == since
    assert _rows(engine, decl.dataset) == kept
    assert [r["status"] for r in state["runs"]][:6] == ["failed"] * 6


def test_a_column_gone_is_a_schema_change(engine, site) -> None:  # noqa: ANN001
    places = _places(engine, 2)
    rows = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": list(p)},
             "properties": {"ma": f"S{n}", "name": f"Trường Số {n}", "level": "primary",
                            "students": 50}} for n, p in enumerate(places)]
    body = {"type": "FeatureCollection", "features": rows}
    url = site.put("/schema/t.geojson", json.dumps(body), "application/geo+json")
    _declare(engine, name="cau-truc", layer="schools", kind="geojson", url=url, key="ma")
    assert run.run_source(engine, "cau-truc", "test")["added"] == 2
    for row in rows:
        del row["properties"]["students"]
    site.put("/schema/t.geojson", json.dumps(body), "application/geo+json")
    result = run.run_source(engine, "cau-truc", "test")
    assert result["status"] == "failed"
    assert result["error_en"] == "The source's schema changed: columns students are gone."
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM schools WHERE source_dataset = "
                                    "'harvest:cau-truc' AND students = 50").scalar() == 2


def test_recovery_clears_the_stale_state(engine, site) -> None:  # noqa: ANN001
    places = _places(engine, 2)
    url = site.put("/r/t.geojson", "oops", "application/json", status=503)
    _declare(engine, name="phuc-hoi", layer="schools", kind="geojson", url=url, key="ma",
             mapping=MAPPING)
    result, state = _failure(engine, "phuc-hoi")
    assert "HTTP 503" in result["error_en"] and state["state"] == "stale"
    site.put("/r/t.geojson", _schools(places), "application/geo+json")
    result, state = _failure(engine, "phuc-hoi")
    assert result["added"] == 2 and state["state"] == "ok" and state["failing_since"] is None


def test_csv_and_json_records(engine, site) -> None:  # noqa: ANN001
    places = _places(engine, 3)
    lines = ["ma_truong,ten_truong,cap_hoc,lon,lat"] + [
        f"C{n},Trường THCS Số {n} Sìn Hồ,lower_secondary,{x},{y}" for n, (x, y) in enumerate(places)]
    url = site.put("/csv/truong.csv", "\n".join(lines).encode("utf-8"), "text/csv")
    _declare(engine, name="csv-truong", layer="schools", kind="csv", url=url, key="ma_truong",
             mapping={"name": "ten_truong", "level": "cap_hoc"})
    assert run.run_source(engine, "csv-truong", "test")["added"] == 3
    assert run.run_source(engine, "csv-truong", "test")["status"] == "unchanged"

    records = {"data": {"results": [
        {"id": n, "info": {"ten": f"Trường THPT Số {n} Phong Thổ"}, "kinh_do": x, "vi_do": y}
        for n, (x, y) in enumerate(places)]}}
    url = site.put("/api/truong", json.dumps(records, ensure_ascii=False))
    _declare(engine, name="rest-truong", layer="schools", kind="json", url=url, key="id",
             items="data.results", x="kinh_do", y="vi_do", crs="EPSG:4326",
             mapping={"name": "info.ten"})
    result = run.run_source(engine, "rest-truong", "test")
    # Level is required and the endpoint has none: a clear refusal, nothing written.
    assert result["status"] == "failed" and "level" in result["error_en"]
    for record in records["data"]["results"]:
        record["cap"] = "upper_secondary"
    site.put("/api/truong", json.dumps(records, ensure_ascii=False))
    _declare(engine, name="rest-truong", layer="schools", kind="json", url=url, key="id",
             items="data.results", x="kinh_do", y="vi_do", crs="EPSG:4326",
             mapping={"name": "info.ten", "level": "cap"})
    result = run.run_source(engine, "rest-truong", "test")
    assert result["added"] == 3, result
    assert "Trường THPT Số 2 Phong Thổ" in {r[0] for r in _rows(engine, "harvest:rest-truong").values()}


def test_two_runners_one_run(engine, site) -> None:  # noqa: ANN001
    places = _places(engine, 2)
    url = site.put("/slow/t.geojson", _schools(places), "application/geo+json", delay=2)
    _declare(engine, name="cham", layer="schools", kind="geojson", url=url, key="ma",
             mapping=MAPPING)
    results: list[dict] = []
    first = threading.Thread(target=lambda: results.append(run.run_source(engine, "cham", "a")))
    first.start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            if conn.exec_driver_sql("SELECT claimed_at FROM harvest_sources WHERE name = 'cham'"
                                    ).scalar():
                break
        time.sleep(0.05)
    with pytest.raises(ConflictError):
        run.run_source(engine, "cham", "b")
    assert "cham" not in run.due(engine)
    first.join()
    assert results[0]["added"] == 2
    with engine.connect() as conn:
        assert len(sources.runs(conn, "cham")) == 1


def test_due_runs_each_source_once_per_interval(engine, site) -> None:  # noqa: ANN001
    url = site.put("/due/t.geojson", _schools(_places(engine, 1)), "application/geo+json")
    _declare(engine, name="den-han", layer="schools", kind="geojson", url=url, key="ma",
             mapping=MAPPING, every_minutes=60)
    assert "den-han" in run.due(engine)
    done = run.run_due(engine, "lich")
    assert "den-han" in {r["source"] for r in done}
    assert "den-han" not in run.due(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE harvest_sources SET last_run_at = now() - interval '61 "
                             "minutes' WHERE name = 'den-han'")
    assert "den-han" in run.due(engine)


@pytest.mark.parametrize("text, why", [
    ("name: x\nlayer: schools\nkind: csv\nurl: http://h/x.csv\nkey: a\npassword: hunter2",
     "no credential"),
    ("name: x\nlayer: schools\nkind: csv\nurl: http://h/x.csv?api_key=abc\nkey: a", "No password"),
    ("name: x\nlayer: schools\nkind: csv\nurl: http://u:p@h/x.csv\nkey: a", "No password"),
    ("name: x\nlayer: nowhere\nkind: csv\nurl: http://h/x.csv\nkey: a", "No layer 'nowhere'"),
    ("name: x\nlayer: schools\nkind: ftp\nurl: http://h/x.csv\nkey: a", "Unsupported source kind"),
    ("name: x\nlayer: schools\nkind: csv\nurl: file:///etc/passwd\nkey: a", "must be http"),
    ("name: x\nlayer: schools\nkind: wfs\nurl: http://h/wfs\nkey: a", "needs 'type_name'"),
    ("name: X Y\nlayer: schools\nkind: csv\nurl: http://h/x.csv\nkey: a", "lowercase"),
    ("name: x\nlayer: schools\nkind: csv\nurl: http://h/x.csv", "lacks: key"),
    ("name: x\nlayer: schools\nkind: csv\nurl: http://h/x.csv\nkey: a\nevery_minutes: 0",
     "every_minutes"),
])
def test_bad_declarations(text: str, why: str) -> None:
    from gis_core.errors import InvalidParameterError

    with pytest.raises(InvalidParameterError) as err:
        declarations.parse(text)
    assert why in err.value.message_en


def test_credentials_come_from_the_environment(engine, site, monkeypatch) -> None:  # noqa: ANN001
    url = site.put("/key/t.geojson", _schools(_places(engine, 1)), "application/geo+json")
    _declare(engine, name="co-khoa", layer="schools", kind="geojson", url=url, key="ma",
             mapping=MAPPING, auth={"secret": "SO_GD"})
    result = run.run_source(engine, "co-khoa", "test")
    assert result["status"] == "failed" and "IOC_HARVEST_SECRET_SO_GD" in result["error_en"]
    monkeypatch.setenv("IOC_HARVEST_SECRET_SO_GD", "k-123")
    assert run.run_source(engine, "co-khoa", "test")["added"] == 1
    assert site.headers[-1].get("X-API-Key") == "k-123"
    with engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT declaration::text FROM harvest_sources WHERE "
                                      "name = 'co-khoa'").scalar()
    assert "k-123" not in stored and "SO_GD" in stored


def test_the_job_schedule_runs_due_sources_and_reports_the_stale(engine, site) -> None:  # noqa: ANN001
    from harvest import schedule

    url = site.put("/job/t.geojson", "{}", status=500)
    _declare(engine, name="lich", layer="schools", kind="geojson", url=url, key="ma",
             mapping=MAPPING, every_minutes=5)
    done = {r["source"]: r for r in schedule.run_due(engine)}
    assert done["lich"]["status"] == "failed"
    assert "lich" in schedule._probe(engine)["stale"]
    with engine.connect() as conn:
        actors = {r[0] for r in conn.exec_driver_sql(
            "SELECT actor FROM audit_log WHERE target = 'harvest_sources/lich'")}
    assert actors == {schedule.ACTOR}


def test_a_malformed_ogc_api_page_is_a_recorded_failure(engine, site) -> None:  # noqa: ANN001
    url = site.put("/ogc/collections/x/items", '{"type": "FeatureCollection", "features": "x"}',
                   "application/geo+json")
    _declare(engine, name="hong", layer="schools", kind="ogcapi", key="id",
             url=url.removesuffix("/items"))
    result = run.run_source(engine, "hong", "test")
    assert result["status"] == "failed" and "Cannot read the source" in result["error_en"]
    with engine.connect() as conn:
        assert sources.get(conn, "hong")["state"] == "stale"


def test_a_worker_process_runs_the_due_job(engine, target_url, site, tmp_path) -> None:  # noqa: ANN001
    """``harvest:due`` deferred on the queue is taken by a real ``ioc worker`` process."""
    from jobs.queue import app_for
    from tests.conftest import worker_process

    url = site.put("/worker/t.geojson", _schools(_places(engine, 3)), "application/geo+json")
    decl = _declare(engine, name="qua-hang-doi", layer="schools", kind="geojson", url=url,
                    key="ma", mapping=MAPPING, every_minutes=30)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE harvest_sources SET enabled = (name = 'qua-hang-doi')")
    app = app_for(target_url)
    job = app.configure_task("harvest:due").defer(timestamp=int(time.time()))
    with worker_process(target_url, tmp_path / "worker"):
        deadline = time.monotonic() + 300
        while True:
            with engine.connect() as conn:
                state = conn.exec_driver_sql(
                    "SELECT status::text FROM procrastinate.procrastinate_jobs WHERE id = %(i)s",
                    {"i": job}).scalar()
            if state in ("succeeded", "failed"):
                break
            assert time.monotonic() < deadline, f"harvest:due still {state}"
            time.sleep(0.2)
    assert state == "succeeded"
    with engine.connect() as conn:
        ran = sources.runs(conn, "qua-hang-doi")
        audited = conn.exec_driver_sql(
            "SELECT actor, details->>'via' FROM audit_log WHERE action = 'harvest.run' AND "
            "target = 'harvest_sources/qua-hang-doi'").all()
    assert [(r["status"], r["added"], r["actor"]) for r in ran] == [("imported", 3, "lich-thu-thap")]
    assert audited == [("lich-thu-thap", "job")]
    assert len(_rows(engine, decl.dataset)) == 3
