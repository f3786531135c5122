"""No figure about fewer than a few households for callers who may not see the houses, in every
scenario output (HTTP, OGC API - Processes, GeoJSON, choropleth, warnings); staff see them all.

A sparsely surveyed province (the samples at a thousandth: 1 to 8 households per commune) has
small cells everywhere, as a 1 m radius does anywhere.
"""

from __future__ import annotations

import httpx
import psycopg2
import pytest

from governance.access import MIN_CELL
from tests.conftest import loaded_database, serving

PASSWORD = "Lai-Chau-2026-cells"
KEYS = ("households", "people", "poor_households", "near_poor_households", "temporary_houses")


@pytest.fixture(scope="module")
def sparse(tmp_path_factory):
    """(anonymous client, leader headers, database URL) on a province with very few households,
    served by a worker process of its own."""
    from gis_core.db import engine_for
    from governance import accounts

    for url in loaded_database("ioc_cells", 0.001):
        with engine_for(url).begin() as conn:
            accounts.create_account(conn, username="lanh-dao", role="leader", password=PASSWORD,
                                    department="so_xay_dung")
        with serving(url, tmp_path_factory.mktemp("cells"), anonymous_runs_per_minute=10_000) \
                as base, httpx.Client(base_url=base, timeout=120) as client:
            token = client.post("/api/v1/auth/token", json={"username": "lanh-dao",
                                                            "password": PASSWORD})
            yield client, {"Authorization": f"Bearer {token.json()['access_token']}"}, url


def _communes(url) -> dict[str, int]:
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT commune_code, count(*) FROM housing GROUP BY 1")
        return dict(cur.fetchall())


def _a_house(url) -> tuple[float, float]:
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT ST_X(geom), ST_Y(geom) FROM housing ORDER BY id LIMIT 1")
        return cur.fetchone()


def test_an_emergency_over_one_house(sparse):
    client, leader, url = sparse
    lon, lat = _a_house(url)
    body = {"kind": "fire", "lon": lon, "lat": lat, "radius_m": 1}
    public = client.post("/api/v1/scenarios/emergency/run", json=body).json()
    staff = client.post("/api/v1/scenarios/emergency/run", json=body, headers=leader).json()
    assert staff["affected"]["households"] >= 1 and staff["affected"]["people"] >= 1
    assert "disclosure" not in staff
    assert all(public["affected"][k] is None for k in KEYS)
    assert all(c["suppressed"] and c["households"] is None for c in public["affected"]["communes"])
    assert public["disclosure"]["min_households"] == MIN_CELL
    assert "fewer than" in public["disclosure"]["en"] and public["disclosure"]["vi"]
    processes = client.post("/ogc/processes/emergency/execution",
                            json={"inputs": body, "outputs": {"geojson": {}}}).json()
    area = next(f for f in processes["features"] if f["properties"]["role"] == "area")
    assert area["properties"]["households"] is None and processes["summary"]["households"] is None


def test_no_commune_can_be_worked_out_from_the_totals(sparse):
    """One small commune beside shown totals: the next smallest is withheld too."""
    client, leader, url = sparse
    body = {"kind": "flood", "lon": 103.46, "lat": 22.40, "radius_m": 100_000}
    public = client.post("/api/v1/scenarios/emergency/run", json=body).json()["affected"]
    shown = [c for c in public["communes"] if not c.get("suppressed")]
    hidden = [c for c in public["communes"] if c.get("suppressed")]
    assert public["households"] is not None and public["households"] >= MIN_CELL
    assert len(hidden) != 1 and all(c["households"] >= MIN_CELL for c in shown)


@pytest.mark.parametrize("route", ["http", "processes", "geojson"])
def test_indicators_about_few_households_are_withheld(sparse, route):
    client, leader, url = sparse
    small = sorted(code for code, n in _communes(url).items() if n < MIN_CELL)
    large = sorted(code for code, n in _communes(url).items() if n >= MIN_CELL)
    body = {"selection": {"type": "communes", "codes": [small[0], large[0]]},
            "indicators": ["poor_household_rate"]}

    def run(headers=None) -> dict[str, dict[str, dict]]:
        if route == "geojson":
            collection = client.post("/api/v1/scenarios/sector_social_welfare/run?f=geojson",
                                     json=body, headers=headers).json()
            return {f["id"]: {r["id"]: r for r in f["properties"]["indicators"]}
                    for f in collection["features"] if f["properties"]["role"] == "group"}
        if route == "processes":
            result = client.post("/ogc/processes/sector_social_welfare/execution",
                                 json={"inputs": body}, headers=headers).json()
        else:
            result = client.post("/api/v1/scenarios/sector_social_welfare/run", json=body,
                                 headers=headers).json()
        return {g["key"]: {r["id"]: r for r in g["indicators"]} for g in result["groups"]}

    public, staff = run(), run(leader)
    rate = "poor_household_rate"
    assert public[small[0]][rate]["status"] == "suppressed"
    assert public[small[0]][rate]["value"] is None and "numerator" not in public[small[0]][rate]
    assert staff[small[0]][rate]["value"] is not None
    assert public[large[0]][rate] == staff[large[0]][rate]


def test_a_sector_mixing_people_and_facilities_withholds_only_the_people(sparse):
    client, _, url = sparse
    small = min(_communes(url).items(), key=lambda kv: kv[1])[0]
    result = client.post("/api/v1/scenarios/sector_health/run", json={
        "selection": {"type": "communes", "codes": [small]}}).json()
    by_id = {r["id"]: r for r in result["groups"][0]["indicators"]}
    assert by_id["doctors_per_10k"]["status"] == "suppressed"  # per person: about the households
    assert by_id["health_permanent_rate"]["status"] != "suppressed"  # facilities only
    assert result["disclosure"]["suppressed"] >= 1


def test_the_choropleth_and_warnings_withhold_small_communes_from_the_public_only(sparse):
    client, leader, url = sparse
    counts = _communes(url)
    url_ = "/api/v1/indicators/poor_household_rate/choropleth?period=2025"
    for order in ((None, leader, None), (leader, None, leader)):  # whichever is cached first
        answers = [client.get(url_, headers=h).json() for h in order]
        for answer, headers in zip(answers, order, strict=True):
            by_code = {f["id"]: f["properties"] for f in answer["features"]}
            for code, n in counts.items():
                withheld = headers is None and n < MIN_CELL
                assert (by_code[code]["status"] == "suppressed") == withheld, (code, n, headers)
                if withheld:
                    assert by_code[code]["value"] is None
            assert ("disclosure" in answer) == (headers is None)
    public = client.get("/api/v1/warnings?period=2025").json()["indicators_not_met"]
    staff = client.get("/api/v1/warnings?period=2025", headers=leader).json()["indicators_not_met"]
    small = {code for code, n in counts.items() if n < MIN_CELL}
    people = {"poor_household_rate", "temporary_house_rate", "near_poor_household_rate"}
    assert not any(w["commune_code"] in small and w["indicator"] in people for w in public)
    assert any(w["commune_code"] in small and w["indicator"] in people for w in staff)
