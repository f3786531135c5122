"""Harvesting a second instance of our own OGC API (served by uvicorn on 127.0.0.1), the operators'
HTTP routes and the ``ioc harvest`` command."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harvest import declarations, run, sources
from tests.conftest import loaded_database, serving


@pytest.fixture(scope="module")
def source_url() -> Iterator[str]:
    """The database of the other instance (a department's own platform)."""
    yield from loaded_database("ioc_hsource", scale=0.02)


@pytest.fixture(scope="module")
def other(source_url, tmp_path_factory) -> Iterator[str]:  # noqa: ANN001
    """The other instance's URL."""
    with serving(source_url, tmp_path_factory.mktemp("other")) as url:
        yield url


def test_harvest_from_another_ogc_api(engine, source_url, other) -> None:  # noqa: ANN001
    from gis_core.db import engine_for

    src = engine_for(source_url)
    with src.connect() as conn:
        count, some = conn.exec_driver_sql("SELECT count(*), min(id) FROM schools").one()
    assert count > 5
    decl = declarations.from_dict({
        "name": "ogc-truong", "layer": "schools", "kind": "ogcapi", "key": "id", "page_size": 4,
        "url": f"{other}/ogc/collections/schools"})
    with engine.begin() as conn:
        sources.put(conn, decl, "test")
    first = run.run_source(engine, "ogc-truong", "test")
    assert (first["status"], first["added"], first["features"]) == ("imported", count, count)
    assert run.run_source(engine, "ogc-truong", "test")["status"] == "unchanged"

    with src.begin() as conn:
        conn.exec_driver_sql("UPDATE schools SET students = coalesce(students, 0) + 7 "
                             "WHERE id = %(i)s", {"i": some})
    third = run.run_source(engine, "ogc-truong", "test")
    assert (third["added"], third["changed"], third["removed"]) == (0, 1, 0)
    with src.connect() as conn:
        want = conn.exec_driver_sql("SELECT name, students FROM schools WHERE id = %(i)s",
                                    {"i": some}).one()
    with engine.connect() as conn:
        got = conn.exec_driver_sql("SELECT name, students FROM schools WHERE source_dataset = "
                                   "'harvest:ogc-truong' AND source_key = %(k)s",
                                   {"k": str(some)}).one()
    assert tuple(got) == tuple(want)


def test_operators_declare_and_run_over_http(api, site, engine) -> None:  # noqa: ANN001
    client, heads = api
    op, leader = heads["h-operator"], heads["h-leader"]
    with engine.connect() as conn:
        x, y = conn.exec_driver_sql("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) "
                                    "p FROM communes ORDER BY code LIMIT 1) s").one()
    url = site.put("/h/t.csv", f"ma,ten,cap,lon,lat\nH1,Trường Mầm non Nậm Nhùn,preschool,{x},{y}\n",
                   "text/csv")
    text = (f"name: http-truong\nlayer: schools\nkind: csv\nurl: {url}\nkey: ma\n"
            "title: Trường học (Sở GD&ĐT)\nmapping: {name: ten, level: cap}\n")
    answer = client.put("/api/v1/harvest/sources/http-truong", content=text.encode(), headers=op)
    assert answer.status_code == 201, answer.text
    assert client.put("/api/v1/harvest/sources/http-truong", content=text.encode(),
                      headers=op).status_code == 200
    denied = client.put("/api/v1/harvest/sources/http-truong", content=text.encode(),
                        headers=leader)
    assert denied.status_code == 403
    bad = client.put("/api/v1/harvest/sources/http-truong", headers=op,
                     content=(text + "token: abc\n").encode())
    assert bad.status_code == 400 and bad.headers["content-type"] == "application/problem+json"
    assert "auth" in bad.json()["detail_en"]
    assert client.put("/api/v1/harvest/sources/khac", content=text.encode(),
                      headers=op).status_code == 400
    assert client.post("/api/v1/harvest/sources/http-truong/run").status_code == 401
    ran = client.post("/api/v1/harvest/sources/http-truong/run", headers=op)
    assert ran.status_code == 200 and ran.json()["added"] == 1
    site.stop()
    ran = client.post("/api/v1/harvest/sources/http-truong/run", headers=op)
    assert ran.json()["status"] == "failed"
    status = client.get("/api/v1/harvest/status", headers=leader).json()
    mine = next(s for s in status["sources"] if s["name"] == "http-truong")
    assert mine["state"] == "stale" and mine["failing_since"]
    assert mine["message"]["vi"].startswith("Dữ liệu cũ: nguồn lỗi từ ")
    assert "url" not in mine
    assert client.get("/api/v1/harvest/status").status_code == 401
    page = client.get("/staff/quality", headers=leader)
    assert page.status_code == 200 and "Nguồn thu thập đang lỗi" in page.text
    assert "Trường học (Sở GD&amp;ĐT)" in page.text and "Dữ liệu cũ: nguồn lỗi từ" in page.text
    one = client.get("/api/v1/harvest/sources/http-truong", headers=op).json()
    assert one["declaration"]["title"] == "Trường học (Sở GD&ĐT)"
    assert [r["status"] for r in one["runs"]] == ["failed", "imported"]
    with engine.connect() as conn:
        actions = [r[0] for r in conn.exec_driver_sql(
            "SELECT action FROM audit_log WHERE target = 'harvest_sources/http-truong' ORDER BY seq")]
    assert actions == ["harvest.declare", "harvest.declare", "harvest.run", "harvest.run"]
    assert client.delete("/api/v1/harvest/sources/http-truong", headers=op).status_code == 204
    assert client.get("/api/v1/harvest/sources/http-truong", headers=op).status_code == 404


def test_the_command(target_url, site, engine, tmp_path: Path, monkeypatch, capsys) -> None:  # noqa: ANN001
    from api.cli import main

    with engine.connect() as conn:
        x, y = conn.exec_driver_sql("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) "
                                    "p FROM communes ORDER BY code LIMIT 1) s").one()
    url = site.put("/c/t.csv", f"ma,ten,cap,lon,lat\nK1,Trường Tiểu học Ka Lăng,primary,{x},{y}\n",
                   "text/csv")
    declaration = tmp_path / "nguon.yaml"
    declaration.write_text(f"name: lenh\nlayer: schools\nkind: csv\nurl: {url}\nkey: ma\n"
                           "mapping: {name: ten, level: cap}\nevery_minutes: 30\n", encoding="utf-8")
    monkeypatch.setenv("DATABASE_URL", target_url)
    main(["harvest", "put", str(declaration)])
    main(["harvest", "due"])
    out = capsys.readouterr().out
    assert "lenh\tmới / created" in out and "lenh\timported\t+1 ~0 -0" in out
    main(["harvest", "run", "lenh"])
    assert "lenh\tunchanged" in capsys.readouterr().out
    site.stop()
    with pytest.raises(SystemExit) as ended:
        main(["harvest", "run", "lenh"])
    assert ended.value.code == 1
    main(["harvest", "list"])
    assert "lenh\tschools\tcsv\tstale" in capsys.readouterr().out
    with pytest.raises(SystemExit) as ended:
        main(["harvest", "put", str(tmp_path / "none.yaml")])
    assert ended.value.code == 1
    assert "ioc: lỗi: Không có tệp" in capsys.readouterr().err
