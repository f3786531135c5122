"""A commune's editor enters reported values for its own commune, and for no other unit."""

from __future__ import annotations

import psycopg2

from tests.auth.conftest import bearer


def _count(database_url, period):
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM reported_values WHERE indicator = 'grdp_growth_pct' "
                    "AND period = %s", (period,))
        return cur.fetchone()[0]


def _row(unit, period):
    return {"indicator": "grdp_growth_pct", "period": period, "unit_code": unit, "value": 5.5}


def test_own_commune_written(client, tokens, communes, database_url):
    home, _ = communes
    r = client.post("/api/v1/reported-values", json=[_row(home, "2041")],
                    headers=bearer(tokens["communeed"]))
    assert r.status_code == 201, r.text
    assert _count(database_url, "2041") == 1


def test_other_units_refused_and_nothing_written(client, tokens, communes, database_url):
    home, other = communes
    for rows in ([_row(other, "2042")], [_row("province", "2042")],
                 [_row(home, "2042"), _row(other, "2042")]):
        r = client.post("/api/v1/reported-values", json=rows, headers=bearer(tokens["communeed"]))
        assert r.status_code == 403, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert "xã mình" in r.json()["detail"]
    assert _count(database_url, "2042") == 0


def test_upload_for_another_commune_refused(client, tokens, communes, database_url):
    _, other = communes
    body = f"indicator,period,unit_code,value\ngrdp_growth_pct,2043,{other},4.0\n".encode()
    r = client.post("/api/v1/reported-values/upload", files={"file": ("so-lieu.csv", body)},
                    headers=bearer(tokens["communeed"]))
    assert r.status_code == 403, r.text
    assert _count(database_url, "2043") == 0


def test_department_editors_enter_any_unit_and_viewers_none(client, tokens, communes,
                                                            database_url):
    _, other = communes
    r = client.post("/api/v1/reported-values", json=[_row(other, "2044")],
                    headers=bearer(tokens["deped1"]))
    assert r.status_code == 201, r.text
    r = client.post("/api/v1/reported-values", json=[_row(other, "2045")],
                    headers=bearer(tokens["viewer1"]))
    assert r.status_code == 403
    assert _count(database_url, "2045") == 0
