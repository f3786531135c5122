"""Quality scores on data with known defects, in a database of this module's own.

The samples are measured first (they carry a little natural noise: minority spellings, trees
planted close together); then defective rows are inserted, and each rule must flag exactly the
rows made to break it, no more.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg2
import pytest

from layers.quality import (
    failing_records,
    layer_quality,
    live_score,
    province_quality,
    render_table,
    rules,
)
from layers.quality_rules import COVERAGE, CoverageRule
from layers.registry import LAYERS, get_layer
from tests.conftest import loaded_database

SCALE = 0.1
RULES = ("geometry_valid", "coordinates_lonlat", "inside_province", "inside_commune",
         "commune_known", "domain:poverty_status", "range:members", "required:household_code",
         "duplicate_key", "near_duplicate", "spelling:village", "normalised:name",
         "normalised:village")


def _failing(cur, layer_id: str, rule: str) -> set[int]:
    result = failing_records(cur, get_layer(layer_id), rule, limit=1000,
                             visible=get_layer(layer_id).fields)
    assert result is not None
    return {r["id"] for r in result["records"]}


def _all_failing(cur) -> dict[tuple[str, str], set[int]]:
    return {(layer.id, rule.id): _failing(cur, layer.id, rule.id)
            for layer in LAYERS if layer.id in ("housing", "schools", "land_parcels", "trees")
            for rule in rules(layer) if rule.id in RULES}


@pytest.fixture(scope="module")
def quality_db() -> Iterator[str]:
    """A migrated database with small samples; defects are inserted by ``defects``."""
    yield from loaded_database("ioc_quality", SCALE)


@pytest.fixture(scope="module")
def defects(quality_db) -> dict[str, object]:
    """Insert one row per defect; return their ids and the failures found before."""
    conn = psycopg2.connect(quality_db)
    made: dict[str, object] = {}
    with conn, conn.cursor() as cur:
        made["before"] = _all_failing(cur)
        # 'own': the commune with most schools; 'other': any other commune.
        cur.execute("SELECT commune_code FROM schools GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")
        own = cur.fetchone()[0]
        cur.execute("SELECT code, ST_AsText(ST_PointOnSurface(geom)) FROM communes WHERE code <> %s "
                    "ORDER BY code LIMIT 1", (own,))
        other, elsewhere = cur.fetchone()
        made["own"] = own
        cur.execute("SELECT id, name, commune_code, ST_X(geom), ST_Y(geom) FROM schools "
                    "WHERE commune_code = %s ORDER BY id LIMIT 2", (own,))
        (original, name, commune, lon, lat), made["second_school"] = cur.fetchall()

        def school(name: str, wkt: str, commune: str) -> int:
            cur.execute("INSERT INTO schools (geom, name, level, commune_code) "
                        "VALUES (ST_GeomFromText(%s, 4326), %s, 'primary', %s) RETURNING id",
                        (wkt, name, commune))
            return cur.fetchone()[0]

        # A school declared in one commune but standing in another.
        made["outside_commune"] = school("Trường Tiểu học Kiểm Tra", elsewhere, own)
        # A copy of an existing school 1 m away, its name in other case and diacritics.
        made["near_pair"] = {original, school(name.upper().replace("Ư", "U"),
                                              f"POINT({lon + 0.00001} {lat})", commune)}
        # A name in NFD (decomposed) at its commune's inner point, far from the other schools.
        cur.execute("SELECT ST_AsText(ST_PointOnSurface(geom)) FROM communes WHERE code = %s", (own,))
        inner = cur.fetchone()[0]
        made["nfd"] = school(unicodedata.normalize("NFD", "Trường Mầm non Hoa Ban Đỏ"), inner, own)

        def household(code: str, wkt: str, commune: str = own, *, village: str = "Bản Thử",
                      poverty: str = "none", members: int = 4) -> int:
            cur.execute(
                "INSERT INTO housing (geom, household_code, head_of_household, village, members, "
                "poverty_status, house_type, surveyed_at, approval_status, commune_code) VALUES "
                "(ST_GeomFromText(%s, 4326), %s, 'Lò Văn Thử', %s, %s, %s, 'permanent', now(), "
                "'approved', %s) RETURNING id", (wkt, code, village, members, poverty, commune))
            return cur.fetchone()[0]

        # The tables refuse these two (migration 0011's CHECK constraints): they stand for rows
        # older than the constraints, which the domain and range rules still find.
        cur.execute("ALTER TABLE housing DROP CONSTRAINT ck_housing_poverty_status_domain, "
                    "DROP CONSTRAINT ck_housing_members_range")
        made["out_of_domain"] = household("QA-0001", inner, poverty="rich")
        made["out_of_range"] = household("QA-0002", inner, members=99)
        made["blank_code"] = household("", inner)
        made["unknown_commune"] = household("QA-0003", inner, commune="99999")
        # VN-2000 metres stored as if they were degrees: the classic CRS mistake.
        made["metres"] = household("QA-0004", "POINT(546991.573 2477623.919)")
        cur.execute("SELECT id, household_code FROM housing WHERE commune_code = %s ORDER BY id "
                    "LIMIT 1", (own,))
        first, code = cur.fetchone()
        made["duplicate_key"] = {first, household(code, inner)}
        # 40 households spell their village one way, one spells it without a tone mark.
        for i in range(40):
            household(f"QA-1{i:03}", inner, village="Bản Nà Luông")
        made["spelling"] = household("QA-2000", inner, village="Bản Na Luông")
        made["spaces"] = household("QA-2001", inner, village="Bản  Nà Luông ")
        # A self-intersecting (bow-tie) parcel.
        cur.execute("SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) "
                    "FROM communes WHERE code = %s", (own,))
        x, y = cur.fetchone()
        d = 0.0005
        bowtie = (f"MULTIPOLYGON((({x} {y}, {x + d} {y + d}, {x + d} {y}, {x} {y + d}, {x} {y})))")
        cur.execute("INSERT INTO land_parcels (geom, map_sheet, parcel_number, area_m2, land_use_type, "
                    "commune_code) VALUES (ST_GeomFromText(%s, 4326), 1, 1, 100, 'ONT', %s) RETURNING id",
                    (bowtie, own))
        made["invalid"] = cur.fetchone()[0]
        # The schools of one commune not updated for three years; the others today.
        cur.execute("UPDATE schools SET updated_at = now()")
        cur.execute("UPDATE schools SET updated_at = now() - interval '1095 days' WHERE commune_code = %s",
                    (other,))
        made["stale_commune"] = other
        # One commune loses its health station.
        cur.execute("DELETE FROM health_facilities WHERE commune_code = %s "
                    "AND kind = 'commune_health_station'", (other,))
    conn.close()
    return made


def _new(defects, cur, layer_id: str, rule: str) -> set[int]:
    return _failing(cur, layer_id, rule) - defects["before"][(layer_id, rule)]


@pytest.fixture()
def cur(quality_db, defects):
    conn = psycopg2.connect(quality_db)
    with conn.cursor() as cursor:
        yield cursor
    conn.rollback()
    conn.close()


def test_samples_pass_the_correctness_rules(defects):
    before = defects["before"]
    for rule in ("geometry_valid", "coordinates_lonlat", "inside_province", "inside_commune",
                 "commune_known", "domain:poverty_status", "range:members", "duplicate_key"):
        assert not before.get(("housing", rule)), rule


def test_each_defect_is_flagged_by_its_rule_and_only_it(defects, cur):
    d = defects
    assert _new(d, cur, "land_parcels", "geometry_valid") == {d["invalid"]}
    assert _new(d, cur, "schools", "inside_commune") == {d["outside_commune"]}
    assert _new(d, cur, "schools", "inside_province") == set()
    assert _new(d, cur, "schools", "near_duplicate") == d["near_pair"]
    assert _new(d, cur, "schools", "normalised:name") == {d["nfd"]}
    assert _new(d, cur, "housing", "domain:poverty_status") == {d["out_of_domain"]}
    assert _new(d, cur, "housing", "range:members") == {d["out_of_range"]}
    assert _new(d, cur, "housing", "required:household_code") == {d["blank_code"]}
    assert _new(d, cur, "housing", "commune_known") == {d["unknown_commune"]}
    assert _new(d, cur, "housing", "coordinates_lonlat") == {d["metres"]}
    assert _new(d, cur, "housing", "inside_province") == {d["metres"]}
    assert _new(d, cur, "housing", "inside_commune") == {d["metres"]}
    assert _new(d, cur, "housing", "duplicate_key") == d["duplicate_key"]
    assert _new(d, cur, "housing", "spelling:village") == {d["spelling"], d["spaces"]}
    assert _new(d, cur, "housing", "normalised:village") == {d["spaces"]}


def test_scores_counts_and_evidence(defects, cur):
    housing = layer_quality(cur, get_layer("housing"))
    by_rule = {r.rule: r for r in housing.rules}
    assert by_rule["domain:poverty_status"].failed == 1
    assert by_rule["range:members"].failed == 1
    assert by_rule["duplicate_key"].failed == 2
    correct_failures = {"domain:poverty_status", "range:members", "commune_known",
                        "coordinates_lonlat"}
    assert housing.records == sum(g.records for g in housing.communes)
    assert housing.scores.correct == pytest.approx(
        (housing.records - len(correct_failures)) / housing.records)
    own = next(g for g in housing.communes if g.commune == defects["own"])
    assert own.failed["domain:poverty_status"] == 1 and own.name
    assert 0 < own.scores.correct < 1 and own.scores.clean < 1
    unknown = next(g for g in housing.communes if g.commune == "99999")
    assert unknown.records == 1 and unknown.scores.correct == 0


def test_coverage_and_liveness(defects, cur):
    health = layer_quality(cur, get_layer("health_facilities"))
    [coverage] = health.coverage
    assert coverage.missing == [defects["stale_commune"]]
    assert coverage.covered == coverage.communes - 1
    assert health.scores.complete == pytest.approx((1 + coverage.covered / coverage.communes) / 2)
    listed = failing_records(cur, get_layer("health_facilities"), "coverage:commune_health_station")
    assert [r["code"] for r in listed["records"]] == [defects["stale_commune"]]
    schools = layer_quality(cur, get_layer("schools"))
    assert not schools.stale and schools.scores.live == 1.0
    assert schools.stale_communes == [defects["stale_commune"]]
    aged = next(g for g in schools.communes if g.commune == defects["stale_commune"])
    assert aged.scores.live == pytest.approx(365 / 1095, rel=0.01)


def test_live_score():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    interval = get_layer("iot_stations").update_interval
    assert live_score(now - interval / 2, interval, now) == (1.0, False)
    assert live_score(now - interval * 4, interval, now) == (0.25, True)
    assert live_score(None, interval, now) == (None, True)


def test_similar_names_with_pg_trgm(quality_db, defects):
    conn = psycopg2.connect(quality_db)
    try:
        with conn.cursor() as cur:
            _, name, commune, lon, lat = defects["second_school"]
            cur.execute("INSERT INTO schools (geom, name, level, commune_code) VALUES "
                        "(ST_SetSRID(ST_MakePoint(%s, %s), 4326), %s, 'primary', %s) RETURNING id",
                        (lon, lat + 0.00001, name + "x", commune))
            typo = cur.fetchone()[0]
            cur.execute("SELECT count(*) FROM pg_extension WHERE extname = 'pg_trgm'")
            if not cur.fetchone()[0]:
                pytest.skip("pg_trgm is not installed on this server")
            assert typo in _failing(cur, "schools", "near_duplicate")
            cur.execute("DROP EXTENSION pg_trgm")
            # The folded names differ: without pg_trgm, no match.
            assert typo not in _failing(cur, "schools", "near_duplicate")
    finally:
        conn.rollback()
        conn.close()


def test_province_by_department_and_commune(defects, cur):
    report = province_quality(cur)
    assert [r.layer for r in report.layers] == [layer.id for layer in LAYERS]
    health = next(d for d in report.departments if d.department == "so_y_te")
    assert health.layers == ["health_facilities"]
    commune = next(c for c in report.communes if c.commune == defects["stale_commune"])
    assert "schools" in commune.stale_layers
    body = report.as_dict()
    assert set(body["layers"][0]["scores"]) == {"correct", "complete", "clean", "live"}
    assert "Sở Y tế" in render_table(report, by="department")


def test_http_quality(quality_db, defects, tmp_path):
    # The quality routes on their own app: create_app would mount a second pygeoapi, whose
    # configuration is process-wide, over the session's.
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from api.auth import Authenticator
    from api.errors import install_error_handlers
    from api.routes import quality as quality_routes
    from gis_core.db import engine_for
    from gis_core.settings import Settings
    from governance.accounts import create_api_client

    app = FastAPI()
    install_error_handlers(app)
    app.include_router(quality_routes.router)
    app.state.engine = engine_for(quality_db)
    app.state.authenticator = Authenticator.from_settings(
        Settings(database_url=quality_db, var_dir=tmp_path), app.state.engine)
    with app.state.engine.begin() as conn:
        _, key = create_api_client(conn, username="qa-bot", scopes=())
    staff = {"X-API-Key": key}
    with TestClient(app) as client:
        body = client.get("/api/v1/quality").json()
        layers = {r["layer"]: r for r in body["layers"]}
        assert layers["schools"]["stale"] is False and layers["schools"]["scores"]["correct"] < 1
        assert all(0 <= v <= 1 for r in layers.values() for v in r["scores"].values() if v is not None)
        one = client.get("/api/v1/quality/housing").json()
        assert {g["commune"] for g in one["communes"]} >= {defects["own"], "99999"}
        dept = client.get("/api/v1/quality/housing?by=department").json()
        assert dept["department_quality"]["department"] == "so_xay_dung"
        url = "/api/v1/quality/housing/failures?rule=domain:poverty_status"
        assert client.get(url).status_code == 401  # the public sees households only as counts
        failing = client.get(url, headers=staff).json()
        assert failing["matched"] == 1 and failing["records"][0]["id"] == defects["out_of_domain"]
        assert "head_of_household" not in failing["records"][0]
        text = client.get("/api/v1/quality/housing/failures?rule=range:members", headers=staff).text
        assert "records" in text
        assert "Lò Văn Thử" not in text
        for url, parameter in (("/api/v1/quality/housing/failures?rule=nope", "rule"),
                               ("/api/v1/quality/housing/failures", "rule"),
                               ("/api/v1/quality/housing/failures?rule=geometry_valid&limit=0", "limit"),
                               ("/api/v1/quality/housing?by=village", "by")):
            response = client.get(url, headers=staff)
            assert response.status_code == 400, url
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["parameter"] == parameter
        assert client.get("/api/v1/quality/nowhere").status_code == 404
        # The report is reused while the data is unchanged, recomputed once it changes.
        again = client.get("/api/v1/quality").json()
        assert again["generated_at"] == body["generated_at"] and again["seconds"] == body["seconds"]
        def spaces(report: dict) -> int:
            trees = next(r for r in report["layers"] if r["layer"] == "trees")
            return next(r["failed"] for r in trees["rules"] if r["rule"] == "normalised:species")

        with psycopg2.connect(quality_db) as conn, conn.cursor() as cur:
            cur.execute("UPDATE trees SET species = species || ' ' WHERE id = (SELECT min(id) FROM trees)")
        assert spaces(client.get("/api/v1/quality").json()) == spaces(body) + 1


def test_cli_quality(quality_db, defects, monkeypatch, capsys):
    import json

    from api.cli import main

    monkeypatch.setenv("DATABASE_URL", quality_db)
    main(["quality", "housing"])
    out = capsys.readouterr().out
    assert "domain:poverty_status: 1/" in out and "TỔNG / TOTAL" in out
    main(["quality", "--json"])
    assert {r["layer"] for r in json.loads(capsys.readouterr().out)["layers"]} == {
        layer.id for layer in LAYERS}
    with pytest.raises(SystemExit) as exit_info:
        main(["quality", "nowhere"])
    assert exit_info.value.code == 1


def test_coverage_rules_are_checked_against_the_declarations():
    assert {rule.layer for rule in COVERAGE} <= {layer.id for layer in LAYERS}
    with pytest.raises(ValueError):
        CoverageRule("x", "communes", {"vi": "x", "en": "x"})
    with pytest.raises(ValueError):
        CoverageRule("x", "health_facilities", {"vi": "x", "en": "x"}, where=(("kind", "spa"),))
