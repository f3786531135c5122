"""Bounded requests: every body has a ceiling, every list a length and no repeats, every scenario
result a size, and the work an anonymous caller can start is rate-limited across workers."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import psycopg2
import pytest

PROBLEM = "application/problem+json"
INDICATOR = "poor_household_rate"


def _inline(indicators: list[str]) -> dict:
    return {"document": {"id": "lap_lai", "title": "Lặp lại", "indicators": indicators}}


@pytest.mark.parametrize("repeats", [2, 5000])
def test_an_inline_document_repeating_an_indicator_is_refused_at_once(client, repeats):
    """5,000 repeats used to answer after seconds with a body of hundreds of megabytes."""
    for url, body in (("/api/v1/scenarios/thematic/run", _inline([INDICATOR] * repeats)),
                      ("/ogc/processes/thematic/execution", {"inputs": _inline([INDICATOR] * repeats)})):
        response = client.post(url, json=body)
        assert response.status_code == 422, (url, response.status_code, len(response.content))
        assert response.headers["content-type"] == PROBLEM
        assert "indicators" in response.json()["detail_en"]
        assert len(response.content) < 5000


def test_a_body_over_the_ceiling_is_413_before_it_is_parsed(client):
    huge = _inline([INDICATOR] * 100_000)  # about 2.3 MB of JSON
    response = client.post("/api/v1/scenarios/thematic/run", json=huge)
    assert response.status_code == 413
    body = response.json()
    assert "1 MB" in body["detail_en"] and body["detail"]


@pytest.mark.parametrize("body,says", [
    ({"selection": {"type": "communes", "codes": ["03388", "03388"]}}, "repeated: 03388"),
    ({"selection": {"type": "communes", "codes": [f"{i:05d}" for i in range(500)]}}, "at most 100"),
    ({"indicators": ["paved_road_share", "paved_road_share"]}, "repeated: paved_road_share"),
])
def test_lists_in_a_run_are_bounded_and_without_repeats(client, body, says):
    response = client.post("/api/v1/scenarios/sector_transport/run", json=body)
    assert response.status_code == 422 and says in response.json()["detail_en"], response.text


def test_repeated_properties_are_refused(client):
    response = client.get("/ogc/collections/schools/items?properties=name,students,name",
                          headers={"accept": "application/geo+json"})
    assert response.status_code == 400 and response.json()["parameter"] == "properties"


def test_repeated_reported_rows_are_refused(client, staff):
    row = {"indicator": "traffic_accidents", "period": "2032", "unit_code": "province", "value": 1}
    response = client.post("/api/v1/reported-values", headers=staff("leader", "so_xay_dung"),
                           json=[row, {**row, "value": 2}])
    assert response.status_code == 422 and "repeats row 1" in response.json()["detail_en"]


def test_a_scenario_result_has_a_ceiling(client, staff):
    """Red flags over the whole province with the largest drill-down stay within the ceiling."""
    from scenarios.engine import MAX_DRILLDOWN

    response = client.post("/api/v1/scenarios/sector_social_welfare/run",
                           headers=staff("leader", "so_xay_dung"),
                           json={"period": "2025", "drilldown_limit": 1000})
    assert response.status_code == 200
    drill = response.json()["drilldown"]
    assert drill["truncated"] is True and len(drill["features"]) == MAX_DRILLDOWN


WINDOW = 3600  # the limits count per hour here, so no window turns during the test


def _fresh_window(database_url) -> None:
    """Start from no count, with the window's room ahead."""
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("DELETE FROM rate_limits")
        cur.execute("SELECT extract(epoch FROM now())")
        left = WINDOW - float(cur.fetchone()[0]) % WINDOW
    if left < 300:
        time.sleep(left + 1)


def test_anonymous_work_is_rate_limited_across_workers_and_restarts(settings, database_url,
                                                                   tmp_path, staff):
    """Two worker processes share one count in PostgreSQL; after both stop, a new worker still
    knows it. Signed-in callers and other addresses are not held back."""
    import shutil

    import httpx

    from tests.conftest import serving

    shutil.copy(settings.var_dir / "secret.key", tmp_path / "secret.key")  # the same tokens
    limits = {"anonymous_runs_per_minute": 5, "sign_ins_per_minute": 3,
              "rate_window_seconds": WINDOW}
    body = {"selection": {"type": "communes", "codes": ["03388"]}, "group_by": "none"}
    with serving(database_url, tmp_path, **limits) as first, \
            serving(database_url, tmp_path, **limits) as second:
        _fresh_window(database_url)
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(
                lambda i: httpx.post(f"{(first, second)[i % 2]}/api/v1/scenarios/sector_transport/"
                                     "run", json=body, timeout=120).status_code, range(8)))
    assert sorted(statuses) == [200] * 5 + [429] * 3

    with serving(database_url, tmp_path, **limits) as restarted:
        refused = httpx.post(f"{restarted}/ogc/processes/sector_transport/execution",
                             json={"inputs": body}, timeout=120)
        assert refused.status_code == 429 and refused.headers["content-type"] == PROBLEM
        assert 1 <= int(refused.headers["Retry-After"]) <= WINDOW
        assert "sign in" in refused.json()["detail_en"] and refused.json()["detail"]
        assert httpx.get(f"{restarted}/api/v1/layers/schools/export?format=csv",
                         timeout=120).status_code == 429
        signed_in = httpx.post(f"{restarted}/api/v1/scenarios/sector_transport/run", json=body,
                               headers=staff("leader", "so_xay_dung"), timeout=120)
        assert signed_in.status_code == 200
        with httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2"),
                          timeout=120) as elsewhere:
            other = elsewhere.post(f"{restarted}/api/v1/scenarios/sector_transport/run", json=body)
            assert other.status_code == 200, other.text
            tries = [elsewhere.post(f"{restarted}/api/v1/auth/token", json={
                "username": f"khong-co-{i}", "password": "sai-mat-khau-123"}) for i in range(4)]
    assert [t.status_code for t in tries] == [401, 401, 401, 429]
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("DELETE FROM rate_limits")
