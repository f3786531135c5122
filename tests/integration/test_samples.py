"""The sample loader against a real PostGIS database (the session's migrated database).

The module reloads the shared ``database_url`` database at a small scale and, at the end, puts
back exactly what the session fixture loaded (the loader is deterministic, which the teardown
also checks), so tests in other modules see the data they expect.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterator

import psycopg2
import pytest
from psycopg2 import sql
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from gis_core.db import to_sqlalchemy_url
from gis_core.settings import SAMPLES_DIR
from layers.registry import LAYERS
from layers.samples import fill_layer_tables, load, reference

SMALL = 0.05
LAYER_IDS = [layer.id for layer in LAYERS]
GENERATED = [i for i in LAYER_IDS if i not in ("province", "communes")]
# English words that must not appear in any free-text value (domain codes excepted).
ENGLISH = r"\m(road|street|school|hospital|clinic|village|station|commune|ward|district|tree|" \
          r"permit|household|plan|zone|water|power|line|unknown|sample|test)\M"


def _rows(url: str, query: sql.Composable | str, params: tuple = ()) -> list[tuple]:
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(query, params)
        rows = cur.fetchall()
    conn.close()
    return rows


def _one(url: str, query: sql.Composable | str, params: tuple = ()) -> object:
    return _rows(url, query, params)[0][0]


def _digests(url: str) -> dict[str, tuple[int, int, str]]:
    """Per table: rows, highest id and the md5 of every row (all columns) in id order."""
    out = {}
    for table in LAYER_IDS:
        out[table] = _rows(url, sql.SQL(
            "SELECT count(*), coalesce(max(id), 0), md5(string_agg(t::text, '|' ORDER BY id)) "
            "FROM {} t").format(sql.Identifier(table)))[0]
    return out


@pytest.fixture(scope="module")
def loaded(database_url: str) -> Iterator[tuple[str, Engine, dict[str, int]]]:
    """The session database reloaded at ``SMALL`` scale; restored to the session's data after."""
    from tests.conftest import SCALE

    before = _digests(database_url)
    engine = create_engine(to_sqlalchemy_url(database_url))
    try:
        counts = fill_layer_tables(engine, scale=SMALL)
        yield database_url, engine, counts
    finally:
        fill_layer_tables(engine, scale=SCALE)
        engine.dispose()
    assert _digests(database_url) == before, "restoring the session's sample data changed it"


def test_counts_are_the_rows_loaded(loaded):
    url, _, counts = loaded
    assert list(counts) == LAYER_IDS
    for table, count in counts.items():
        assert count > 0, table
        assert _one(url, sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))) == count
    assert counts["communes"] == 38
    assert counts["province"] == 1
    assert counts["housing"] == round(reference.TOTAL_HOUSEHOLDS * SMALL)


def test_communes_and_province_are_the_real_boundaries(loaded):
    url, _, _ = loaded
    features = json.loads((SAMPLES_DIR / "communes.geojson").read_text(encoding="utf-8"))
    source = {f["properties"]["code"]: f["properties"] for f in features["features"]}
    rows = _rows(url, "SELECT code, name, full_name, name_en, unit_type, area_km2, population, "
                      "predecessor_codes, predecessor_names, valid_from::text, "
                      "ST_GeometryType(geom), ST_IsValid(geom), ST_SRID(geom) FROM communes")
    assert len(rows) == 38
    assert {r[0] for r in rows} == set(source)
    for (code, name, full_name, name_en, unit_type, area, population, pred_codes, pred_names,
         valid_from, geom_type, valid, srid) in rows:
        p = source[code]
        assert name.encode() == p["name"].encode()
        assert full_name.encode() == p["full_name"].encode()
        assert unicodedata.is_normalized("NFC", name)
        assert unicodedata.is_normalized("NFC", full_name)
        assert (name_en, unit_type, area) == (p["name_en"], p["unit_type"], p["area_km2_source"])
        assert pred_codes == p["predecessor_codes"]
        assert pred_names == p["predecessor_names"]
        assert valid_from == p["valid_from"]
        assert (geom_type, valid, srid) == ("ST_MultiPolygon", True, 4326)
        assert population > 0
    assert sum(r[6] for r in rows) == reference.TOTAL_POPULATION
    assert sorted(r[4] for r in rows).count("ward") == 2
    # Population is an estimate, but the wards are the densest units.
    assert min(r[6] / r[5] for r in rows if r[4] == "ward") > max(
        r[6] / r[5] for r in rows if r[4] == "commune")

    code, name, name_en, area, geom_type = _rows(
        url, "SELECT code, name, name_en, area_km2, ST_GeometryType(geom) FROM province")[0]
    assert code == "12" and "Lai Châu" in name and name_en == "Lai Chau"
    assert area == pytest.approx(9068.73)
    assert geom_type == "ST_MultiPolygon"


@pytest.mark.parametrize("table", GENERATED)
def test_every_feature_lies_within_its_commune_and_the_province(loaded, table):
    url, _, _ = loaded
    total, orphans, outside, outside_province, invalid, empty = _rows(url, sql.SQL(
        "SELECT count(*), count(*) FILTER (WHERE c.code IS NULL), "
        "count(*) FILTER (WHERE NOT ST_Covers(c.geom, f.geom)), "
        "count(*) FILTER (WHERE NOT ST_Covers(p.geom, f.geom)), "
        "count(*) FILTER (WHERE NOT ST_IsValid(f.geom)), count(*) FILTER (WHERE ST_IsEmpty(f.geom)) "
        "FROM {} f LEFT JOIN communes c ON c.code = f.commune_code CROSS JOIN province p"
    ).format(sql.Identifier(table)))[0]
    assert total > 0
    assert (orphans, outside, outside_province, invalid, empty) == (0, 0, 0, 0, 0)


def test_poverty_shares_and_households(loaded):
    url, _, _ = loaded
    total, poor, near, members_avg, members_min, members_max = _rows(url, (
        "SELECT count(*), avg((poverty_status = 'poor')::int), "
        "avg((poverty_status = 'near_poor')::int), avg(members), min(members), max(members) "
        "FROM housing"))[0]
    assert float(poor) == pytest.approx(0.195, abs=0.01)
    assert float(near) == pytest.approx(0.093, abs=0.01)
    assert 4.2 < float(members_avg) < 4.8 and members_min >= 1 and members_max <= 12
    # Poverty is lower in the two wards than in the rural communes.
    ward, rural = _rows(url, (
        "SELECT avg((h.poverty_status = 'poor')::int) FILTER (WHERE c.unit_type = 'ward'), "
        "avg((h.poverty_status = 'poor')::int) FILTER (WHERE c.unit_type = 'commune') "
        "FROM housing h JOIN communes c ON c.code = h.commune_code"))[0]
    assert ward < rural / 3
    # Temporary houses go with poverty.
    temp_poor, temp_none = _rows(url, (
        "SELECT avg((house_type = 'temporary')::int) FILTER (WHERE poverty_status = 'poor'), "
        "avg((house_type = 'temporary')::int) FILTER (WHERE poverty_status = 'none') "
        "FROM housing"))[0]
    assert temp_poor > 3 * temp_none
    # Every commune has households, spread over several villages.
    per_commune = _rows(url, "SELECT commune_code, count(DISTINCT village) FROM housing "
                             "GROUP BY commune_code")
    assert len(per_commune) == 38 and min(n for _, n in per_commune) >= 3


def test_household_values_are_well_formed(loaded):
    url, _, _ = loaded
    bad = _rows(url, (
        "SELECT count(*) FILTER (WHERE household_code !~ ('^LC-' || commune_code || '-[0-9]{5}$')),"
        " count(*) FILTER (WHERE citizen_id !~ '^012[0-9]{9}$'),"
        " count(*) - count(DISTINCT citizen_id), count(*) - count(DISTINCT household_code),"
        " count(*) FILTER (WHERE village !~ '^(Bản|Tổ dân phố) '),"
        " count(*) FILTER (WHERE surveyed_at < '2024-01-01+07' OR surveyed_at >= '2026-01-01+07'),"
        " count(*) FILTER (WHERE cardinality(photo_refs) NOT BETWEEN 1 AND 3"
        "   OR photo_refs[1] <> 'photos/' || household_code || '-1.jpg'),"
        " count(*) FILTER (WHERE head_of_household !~ '^\\S+ \\S+ \\S+$'),"
        " count(*) FILTER (WHERE updated_at < created_at)"
        " FROM housing"))[0]
    assert bad == (0,) * len(bad)
    approved = _one(url, "SELECT avg((approval_status = 'approved')::int) FROM housing")
    assert float(approved) > 0.8
    names = [r[0] for r in _rows(url, "SELECT DISTINCT head_of_household FROM housing")]
    families = {n.split()[0] for n in names}
    assert {"Lò", "Giàng", "Nguyễn"} <= families
    assert sum(any(ord(ch) > 127 for ch in n) for n in names) > 0.8 * len(names)


def test_health_stations_and_schools_in_every_commune(loaded):
    url, _, _ = loaded
    rows = _rows(url, (
        "SELECT c.code, c.full_name, "
        " (SELECT array_agg(name) FROM health_facilities h"
        "   WHERE h.commune_code = c.code AND h.kind = 'commune_health_station'),"
        " (SELECT count(*) FROM schools s WHERE s.commune_code = c.code AND s.level = 'primary'),"
        " (SELECT count(*) FROM schools s WHERE s.commune_code = c.code AND s.level = 'preschool')"
        " FROM communes c"))
    for _code, full_name, stations, primary, preschool in rows:
        unit, name = full_name.split(" ", 1)
        assert stations == [f"Trạm Y tế {unit.lower()} {name}"]
        assert primary >= 1 and preschool >= 1
    assert _one(url, "SELECT count(*) FROM health_facilities WHERE kind = 'provincial_hospital' "
                     "AND name = 'Bệnh viện Đa khoa tỉnh Lai Châu'") == 1
    assert _one(url, "SELECT count(*) - count(DISTINCT name) FROM schools") == 0


def test_text_is_vietnamese_nfc_and_free_of_english(loaded):
    url, _, _ = loaded
    for layer in LAYERS:
        for spec in layer.fields:
            if spec.type not in ("text", "text[]"):
                continue
            column = sql.Identifier(spec.name)
            value = column if spec.type == "text" else sql.SQL("array_to_string({}, '|')").format(
                column)
            not_nfc, english = _rows(url, sql.SQL(
                "SELECT count(*) FILTER (WHERE NOT ({v} IS NFC NORMALIZED)),"
                " count(*) FILTER (WHERE {v} ~* %s) FROM {t}").format(
                    v=value, t=sql.Identifier(layer.id)), (ENGLISH,))[0]
            assert not_nfc == 0, f"{layer.id}.{spec.name}"
            if not spec.domain and spec.name not in ("name_en", "legal_basis"):
                assert english == 0, f"{layer.id}.{spec.name}"
    for table, column in (("schools", "name"), ("health_facilities", "name"),
                          ("roads", "name"), ("power_lines", "name"), ("stations", "name"),
                          ("iot_stations", "name"), ("trees", "species"),
                          ("planning_zones", "plan_name"),
                          ("construction_permits", "applicant_name")):
        ascii_only = _one(url, sql.SQL("SELECT count(*) FROM {} WHERE {} !~ '[^\\x01-\\x7f]'")
                          .format(sql.Identifier(table), sql.Identifier(column)))
        assert ascii_only == 0, f"{table}.{column}"


def test_derived_measures_match_the_geometry(loaded):
    url, _, _ = loaded
    for table in ("roads", "power_lines", "water_network"):
        worst = _one(url, sql.SQL(
            "SELECT max(abs(length_km - ST_Length(geom::geography) / 1000)) FROM {}"
        ).format(sql.Identifier(table)))
        assert worst < 0.002, table
    parcels = _rows(url, (
        "SELECT max(abs(area_m2 - ST_Area(geom::geography)) / area_m2),"
        " count(*) - count(DISTINCT (commune_code, map_sheet, parcel_number)) FROM land_parcels"))
    assert parcels[0][0] < 0.005 and parcels[0][1] == 0
    orphan_permits = _one(url, (
        "SELECT count(*) FROM construction_permits p LEFT JOIN land_parcels l"
        " ON (l.commune_code, l.map_sheet, l.parcel_number)"
        "  = (p.commune_code, p.map_sheet, p.parcel_number) AND ST_Covers(l.geom, p.geom)"
        " WHERE l.id IS NULL"))
    assert orphan_permits == 0
    stale = _one(url, "SELECT count(*) FROM iot_stations WHERE last_reading_at IS NULL "
                      "OR last_reading_at > %s", (reference.REFERENCE_TIME,))
    assert stale == 0


def test_reload_is_identical_and_does_not_duplicate(loaded):
    url, engine, counts = loaded
    first = _digests(url)
    assert fill_layer_tables(engine, scale=SMALL) == counts
    second = _digests(url)
    assert second == first
    for table, (rows, max_id, _) in second.items():
        assert rows == counts[table] == max_id, table


def test_failed_load_changes_nothing(loaded, monkeypatch):
    url, engine, _ = loaded
    before = _digests(url)
    finish = load.finish_table

    def broken(table):  # noqa: ANN001, ANN202 - the loader's private hook
        names, count, buf = finish(table)
        if table.layer.id == LAYER_IDS[-1]:
            buf.seek(0, 2)
            buf.write("not\ta\tvalid\trow\n")
            buf.seek(0)
        return names, count, buf

    monkeypatch.setattr(load, "finish_table", broken)
    with pytest.raises(psycopg2.Error):
        fill_layer_tables(engine, scale=SMALL, seed=1)
    assert _digests(url) == before


def test_full_scale(loaded):
    """At scale 1 the province's real orders of magnitude."""
    url, engine, _ = loaded
    counts = fill_layer_tables(engine)
    assert counts["housing"] == pytest.approx(107_700, rel=0.02)
    poor, near = _rows(url, "SELECT avg((poverty_status = 'poor')::int), "
                            "avg((poverty_status = 'near_poor')::int) FROM housing")[0]
    assert float(poor) == pytest.approx(0.195, abs=0.015)
    assert float(near) == pytest.approx(0.093, abs=0.015)
    assert 350 <= counts["schools"] <= 450
    assert 60 <= counts["health_facilities"] <= 80
    assert 100 <= counts["iot_stations"] <= 200
    road_km = float(_one(url, "SELECT sum(length_km) FROM roads"))
    power_km = float(_one(url, "SELECT sum(length_km) FROM power_lines"))
    assert 4000 <= road_km <= 6000
    assert 2000 <= power_km <= 3000
    assert _one(url, "SELECT count(DISTINCT name) FROM roads WHERE road_class = 'national'") >= 4
