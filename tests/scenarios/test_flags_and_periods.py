"""Statuses against targets set to be met, missed or nearly met; reported values by period;
drill-downs carry public fields only; an empty period says so instead of a zero."""

from __future__ import annotations

import pytest

from governance.access import ANONYMOUS, CURRENT, Principal
from layers.registry import get_layer
from scenarios import reported
from scenarios.engine import status_of
from scenarios.registry import require_scenario

PERIOD = "2031"  # no declared target covers it: only the targets set here apply
MET, MISSED, NEARLY = "03388", "03390", "03408"


def _values(cursor, codes):
    result = require_scenario(cursor, "sector_social_welfare").run(cursor, {
        "selection": {"type": "communes", "codes": codes}, "period": PERIOD,
        "indicators": ["poor_household_rate"]}).result
    return {g["key"]: g["indicators"][0]["value"] for g in result["groups"]}


@pytest.fixture()
def targets(cursor):
    actual = _values(cursor, [MET, MISSED, NEARLY])
    rows = [
        reported.TargetValue(indicator="poor_household_rate", period=PERIOD, unit_code=MET,
                             value=actual[MET] + 1, legal_basis="Kiểm thử: đạt"),
        reported.TargetValue(indicator="poor_household_rate", period=PERIOD, unit_code=MISSED,
                             value=actual[MISSED] / 2, legal_basis="Kiểm thử: không đạt"),
        reported.TargetValue(indicator="poor_household_rate", period=PERIOD, unit_code=NEARLY,
                             value=actual[NEARLY] / 1.05, legal_basis="Kiểm thử: sát ngưỡng"),
    ]
    reported.set_targets(cursor, rows, actor="test")
    yield actual
    cursor.execute("DELETE FROM indicator_targets WHERE period = %s", (PERIOD,))
    cursor.connection.commit()


def test_status_rules():
    assert status_of(10, 10, "higher", 0.1) == "met"
    assert status_of(9.5, 10, "higher", 0.1) == "at_risk"
    assert status_of(8, 10, "higher", 0.1) == "not_met"
    assert status_of(10.5, 10, "lower", 0.1) == "at_risk"
    assert status_of(12, 10, "lower", 0.1) == "not_met"
    assert status_of(1, 0, "lower", 0.1) == "not_met"


def run_as(cursor, principal, params):
    token = CURRENT.set(principal)
    try:
        return require_scenario(cursor, "sector_social_welfare").run(cursor, params).result
    finally:
        CURRENT.reset(token)


def test_flags_follow_the_targets(cursor, targets):
    params = {"selection": {"type": "communes", "codes": [MET, MISSED, NEARLY]}, "period": PERIOD,
              "indicators": ["poor_household_rate"], "drilldown_limit": 5}
    result = run_as(cursor, Principal(username="lanh-dao", role="leader"), params)
    by = {g["key"]: g["indicators"][0] for g in result["groups"]}
    assert by[MET]["status"] == "met" and by[MET]["legal_basis"] == "Kiểm thử: đạt"
    assert by[MISSED]["status"] == "not_met"
    assert by[MISSED]["gap"] == pytest.approx(targets[MISSED] / 2, abs=1e-3)
    assert by[NEARLY]["status"] == "at_risk"
    flagged = {(w["group"], w["status"]) for w in result["warnings"]}
    assert flagged == {(MISSED, "not_met"), (NEARLY, "at_risk")}
    # Drill-down: the poor households of the commune that missed, public fields only.
    features = result["drilldown"]["features"]
    assert 0 < len(features) <= 5
    housing = get_layer("housing")
    hidden = {f.name for f in housing.fields if f.sensitivity != "public"}
    for feature in features:
        props = feature["properties"]
        assert props["commune_code"] == MISSED and props["poverty_status"] == "poor"
        assert not hidden & set(props), hidden & set(props)
    # The public gets the same figures and flags, but never the houses behind them.
    public = run_as(cursor, ANONYMOUS, params)
    assert public["groups"] == result["groups"] and public["drilldown"]["features"] == []


def test_margin_is_configurable(cursor, targets):
    result = require_scenario(cursor, "sector_social_welfare").run(cursor, {
        "selection": {"type": "communes", "codes": [NEARLY]}, "period": PERIOD,
        "indicators": ["poor_household_rate"], "at_risk_margin": 0.01}).result
    assert result["groups"][0]["indicators"][0]["status"] == "not_met"


def test_reported_values_trend_and_missing_periods(cursor):
    rows = [reported.ReportedValue(indicator="traffic_accidents", period=p, unit_code="province",
                                   value=v) for p, v in (("2030-Q1", 40), ("2030-Q2", 31))]
    reported.enter_values(cursor, rows, actor="Phòng CSGT", source="api")
    scenario = require_scenario(cursor, "sector_public_order")
    result = scenario.run(cursor, {"group_by": "none", "period": "2030-Q2"}).result
    accidents = next(r for r in result["groups"][0]["indicators"] if r["id"] == "traffic_accidents")
    assert accidents["value"] == 31 and accidents["entered_by"] == "Phòng CSGT"
    assert accidents["trend"] == {"previous_period": "2030-Q1", "previous_value": 40.0,
                                  "change": -9.0, "direction": "improving"}
    empty = scenario.run(cursor, {"group_by": "none", "period": "2030-Q3"}).result
    crimes = next(r for r in empty["groups"][0]["indicators"] if r["id"] == "traffic_accidents")
    assert crimes["status"] == "no_data" and crimes["value"] is None
    assert crimes["note"]["en"] == "No data for this period."
    cursor.execute("DELETE FROM reported_values WHERE period LIKE '2030%%'")
    cursor.connection.commit()


def test_reference_actuals_are_seeded_and_judged(cursor):
    result = require_scenario(cursor, "socio_economic").run(cursor, {"period": "2025"}).result
    by = {r["id"]: r for r in result["groups"][0]["indicators"]}
    growth = by["grdp_growth_pct"]
    assert growth["value"] == 8.2 and growth["target"] == 9
    assert growth["status"] == "at_risk" and growth["trend"]["direction"] == "worsening"
    assert "39/2020/NQ-HĐND" in growth["legal_basis"]
    assert by["jobs_created"]["status"] == "no_data" and by["jobs_created"]["value"] is None


def test_rejected_batch_writes_nothing(cursor):
    cursor.execute("SELECT count(*) FROM reported_values")
    before = cursor.fetchone()[0]
    rows = [reported.ReportedValue(indicator="criminal_cases", period="2029", value=5),
            reported.ReportedValue(indicator="criminal_cases", period="2029", unit_code="00000",
                                   value=6)]
    from gis_core.errors import ValidationError

    with pytest.raises(ValidationError, match="Dòng 2"):
        reported.enter_values(cursor, rows, actor="test", source="api")
    cursor.connection.rollback()
    cursor.execute("SELECT count(*) FROM reported_values")
    assert cursor.fetchone()[0] == before


def test_group_by_period_and_sector(cursor):
    by_period = require_scenario(cursor, "socio_economic").run(
        cursor, {"group_by": "period", "period": "2025"}).result
    assert [g["key"] for g in by_period["groups"]] == ["2025", "2024", "2023"]
    year_2024 = {r["id"]: r for r in by_period["groups"][1]["indicators"]}
    assert year_2024["grdp_growth_pct"]["value"] == 9.0
    assert year_2024["grdp_growth_pct"]["status"] == "met"
    # Computed indicators describe the layers as they are: earlier periods have no data.
    assert year_2024["poor_household_rate"]["status"] == "no_data"
    assert year_2024["poor_household_rate"]["value"] is None
    thematic = require_scenario(cursor, "thematic").run(cursor, {"document": {
        "id": "two_sectors", "title": "Hai ngành", "group_by": "sector",
        "indicators": ["beds_per_10k", "paved_road_share", "earth_road_km"]}}).result
    groups = {g["key"]: [r["id"] for r in g["indicators"]] for g in thematic["groups"]}
    assert groups == {"health": ["beds_per_10k"], "transport": ["paved_road_share", "earth_road_km"]}
