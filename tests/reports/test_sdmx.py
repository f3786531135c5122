"""Indicators shared as SDMX 2.1, read by the sdmx1 library's own client over real HTTP."""

from __future__ import annotations

import io

import psycopg2
import pytest
import sdmx


@pytest.fixture(scope="module")
def sharing_key(database_url):
    from gis_core.db import engine_for
    from governance import accounts

    with engine_for(database_url).begin() as conn:
        _, key = accounts.create_api_client(conn, username="t-gso-sync", scopes=("share:indicators",))
    return key


@pytest.fixture(scope="module")
def sdmx_client(live_url, sharing_key):
    sdmx.add_source({"id": "LAICHAU_IOC", "url": f"{live_url}/sdmx/rest",
                     "name": "Lai Châu IOC"}, override=True)
    client = sdmx.Client("LAICHAU_IOC")
    client.session.headers["X-API-Key"] = sharing_key
    return client


def _engine(database_url, ids, area, period, group_by):
    from gis_core.db import engine_for, raw_cursor
    from governance.access import ANONYMOUS, CURRENT
    from reports.figures import data_moment
    from scenarios.engine import Request, evaluate
    from scenarios.indicators import get_indicator
    from scenarios.selection import ProvinceSelection, resolve

    CURRENT.set(ANONYMOUS)
    with raw_cursor(engine_for(database_url)) as cursor:
        selection = resolve(cursor, ProvinceSelection(type="province"))
        result = evaluate(cursor, Request(tuple(get_indicator(i) for i in ids), selection, period,
                                          group_by, drilldown_limit=0, as_of=data_moment(period)))
    group = result["groups"][0] if area is None else next(g for g in result["groups"]
                                                          if g["key"] == area)
    return {r["id"]: r for r in group["indicators"]}


def test_structure_describes_the_indicators_areas_and_attributes(sdmx_client):
    message = sdmx_client.dataflow("DF_IOC_INDICATORS")
    dsd = message.structure["DSD_IOC_INDICATORS"]
    assert [d.id for d in dsd.dimensions.components] == ["INDICATOR", "REF_AREA", "TIME_PERIOD"]
    assert {"UNIT_MEASURE", "TARGET", "LEGAL_BASIS", "OBS_STATUS"} <= {
        a.id for a in dsd.attributes.components}
    indicators = message.codelist["CL_INDICATOR"]
    assert str(indicators["poor_household_rate"].name["vi"]) == "Tỷ lệ hộ nghèo"
    areas = message.codelist["CL_AREA"]
    assert "12" in areas and len(areas) == 39


def test_data_round_trips_the_engine_values_and_targets(sdmx_client, database_url):
    ids = ["poor_household_rate", "doctors_per_10k"]
    message = sdmx_client.data("DF_IOC_INDICATORS", key=f"{'+'.join(ids)}.12",
                               params={"startPeriod": "2025", "endPeriod": "2025"})
    series = sdmx.to_pandas(message.data[0])
    expected = _engine(database_url, ids, None, "2025", "none")
    for ind in ids:
        assert series[("2025", ind, "12")] == pytest.approx(expected[ind]["value"])
    obs = {key.values["INDICATOR"].value: observations[0]
           for key, observations in message.data[0].series.items()}
    attrs = obs["poor_household_rate"].attached_attribute
    assert float(attrs["TARGET"].value) == pytest.approx(expected["poor_household_rate"]["target"])
    assert attrs["UNIT_MEASURE"].value == "%"
    assert "Nghị quyết 39/2020/NQ-HĐND" in attrs["LEGAL_BASIS"].value
    assert attrs["OBS_STATUS"].value == "A"


def test_sdmx_csv_reads_back_with_the_structure(client, sdmx_client, sharing_key, database_url):
    structure = sdmx_client.dataflow("DF_IOC_INDICATORS")
    response = client.get("/sdmx/rest/data/DF_IOC_INDICATORS/poor_household_rate.",
                          params={"startPeriod": "2026-Q3", "format": "csv"},
                          headers={"X-API-Key": sharing_key})
    assert response.status_code == 200, response.text
    message = sdmx.read_sdmx(io.BytesIO(response.content), format="CSV",
                             structure=structure.dataflow["DF_IOC_INDICATORS"])
    values = sdmx.to_pandas(message.data[0])
    assert len(values) == 39  # the province and its 38 communes
    commune = values.index.get_level_values("REF_AREA")[1]
    expected = _engine(database_url, ["poor_household_rate"], commune, "2026-Q3", "commune")
    assert values.xs(commune, level="REF_AREA").iloc[0] == pytest.approx(
        expected["poor_household_rate"]["value"])


def _unreported_2025(database_url) -> str:
    """A reported indicator nobody (samples or other tests) entered for the province in 2025."""
    from scenarios.indicators import INDICATORS

    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT DISTINCT indicator FROM reported_values WHERE unit_code = 'province' "
                    "AND period LIKE '2025%'")
        entered = {r[0] for r in cur.fetchall()}
    return next(i.id for i in INDICATORS if i.kind == "reported" and i.id not in entered)


def test_sdmx_json_reads_back(client, sharing_key, database_url):
    missing = _unreported_2025(database_url)
    response = client.get(f"/sdmx/rest/data/DF_IOC_INDICATORS/poor_household_rate+{missing}.12",
                          params={"startPeriod": "2025", "format": "json"},
                          headers={"X-API-Key": sharing_key})
    assert response.status_code == 200, response.text
    message = sdmx.read_sdmx(io.BytesIO(response.content), format="JSON")
    values = sdmx.to_pandas(message.data[0])
    expected = _engine(database_url, ["poor_household_rate"], None, "2025", "none")
    assert values[("poor_household_rate", "12", "2025")] == pytest.approx(
        expected["poor_household_rate"]["value"])
    series = {k.values["INDICATOR"].value: obs[0] for k, obs in message.data[0].series.items()}
    unreported = series[missing]  # nothing entered for 2025: missing, not zero
    status = unreported.attached_attribute["OBS_STATUS"].value
    assert getattr(status, "id", status) == "M"
    assert values[(missing, "12", "2025")] != values[(missing, "12", "2025")]


def test_exchanges_need_the_sharing_scope_and_are_audited(client, reader, sharing_key, db):
    with db.cursor() as cur:
        cur.execute("SELECT coalesce(max(seq), 0) FROM audit_log")
        since = cur.fetchone()[0]
    url = "/sdmx/rest/data/DF_IOC_INDICATORS/poor_household_rate.12"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=reader).status_code == 403
    assert client.get(url, headers={"X-API-Key": sharing_key}).status_code == 200
    with db.cursor() as cur:
        cur.execute("SELECT action, actor, outcome, details FROM audit_log WHERE seq > %s AND "
                    "action LIKE 'sdmx.%%' ORDER BY seq", (since,))
        rows = cur.fetchall()
    assert [(a, o) for a, _, o, _ in rows] == [("sdmx.denied", "denied"), ("sdmx.data", "ok")]
    assert rows[1][1] == "t-gso-sync" and rows[1][3]["key"] == "poor_household_rate.12"


def test_bad_keys_and_periods_say_what_to_change(client, sharing_key):
    headers = {"X-API-Key": sharing_key}
    for url, status, parameter in (
            ("/sdmx/rest/data/DF_IOC_INDICATORS/no_such.12", 404, "key"),
            ("/sdmx/rest/data/DF_IOC_INDICATORS/poor_household_rate.99999", 404, "key"),
            ("/sdmx/rest/data/DF_IOC_INDICATORS/a.b.c", 400, "key"),
            ("/sdmx/rest/data/DF_OTHER", 404, "flow"),
            ("/sdmx/rest/data/DF_IOC_INDICATORS?startPeriod=2020-Q1&endPeriod=2026-Q4", 400,
             "startPeriod")):
        response = client.get(url, headers=headers)
        assert response.status_code == status, url
        assert response.json()["parameter"] == parameter, url


def test_small_cells_are_withheld(database_url):
    """A commune with 3 households: its rates are withheld (OBS_STATUS C), never printed in a
    report either."""
    from reports import sdmx as sdmx_out
    from reports.definitions import definitions
    from reports.figures import compute
    from reports.layout import table_rows
    from scenarios.indicators import get_indicator

    conn = psycopg2.connect(database_url)
    try:
        with conn.cursor() as cur:
            cur.execute("INSERT INTO communes (geom, code, name, full_name, unit_type) SELECT "
                        "ST_Translate(geom, 5, 0), '99999', 'Xã thử', 'Xã thử', unit_type FROM "
                        "communes ORDER BY code LIMIT 1")
            cur.execute("INSERT INTO housing (geom, household_code, head_of_household, members, "
                        "poverty_status, house_type, surveyed_at, approval_status, commune_code) "
                        "SELECT geom, household_code || '-t', head_of_household, members, 'poor', "
                        "house_type, surveyed_at, approval_status, '99999' FROM housing ORDER BY id "
                        "LIMIT 3")
            rows = sdmx_out.observations(cur, [get_indicator("poor_household_rate")], ["99999"],
                                         ["2026-Q4"])
            text = sdmx_out.sdmx_csv(rows).decode()
            report = compute(cur, definitions()["sector_social_welfare_monthly"], "2026-Q4")
    finally:
        conn.rollback()
        conn.close()
    assert rows[0]["OBS_STATUS"] == "C" and rows[0]["OBS_VALUE"] is None
    assert ",99999,2026-Q4,,%,,,C,suppressed" in text
    assert report["figures"]["poor_household_rate@99999"] == "suppressed"
    row = next(r for s in report["sections"] if s["kind"] == "indicators"
               for r in s["rows"] if r["key"] == "poor_household_rate@99999")
    assert table_rows({"kind": "indicators", "rows": [row]})[1][0][4] == "Ẩn (dưới 5 hộ)"
