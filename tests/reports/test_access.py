"""Who reads which report; every generation, download and refusal audited; bad input answered."""

from __future__ import annotations

import pytest

from reports.definitions import parse


def _audit(db, action, since):
    with db.cursor() as cur:
        cur.execute("SELECT actor, target, outcome FROM audit_log WHERE action = %s AND seq > %s",
                    (action, since))
        return cur.fetchall()


def _head(db):
    with db.cursor() as cur:
        cur.execute("SELECT coalesce(max(seq), 0) FROM audit_log")
        return cur.fetchone()[0]


def test_roles_see_the_reports_meant_for_them(client, staff):
    listed = {r: {d["id"] for d in client.get("/api/v1/reports", headers=staff(r)).json()["reports"]}
              for r in ("operator", "leader", "viewer")}
    assert "ioc_activity_quarterly" in listed["operator"] & listed["leader"]
    assert "ioc_activity_quarterly" not in listed["viewer"]
    assert "socio_economic_quarterly" in listed["viewer"]
    assert len(listed["leader"]) == 9
    assert client.get("/api/v1/reports").status_code == 401


def test_a_refused_generation_is_audited(client, staff, db):
    since = _head(db)
    response = client.post("/api/v1/reports/ioc_activity_quarterly/generate", headers=staff("viewer"),
                           json={"period": "2026-Q3", "format": "xlsx"})
    assert response.status_code == 403
    assert _audit(db, "report.denied", since)[0][2] == "denied"


def test_generation_and_download_are_audited(client, staff, db):
    since = _head(db)
    headers = staff("operator")
    run = client.post("/api/v1/reports/ioc_activity_quarterly/generate", headers=headers,
                      json={"period": "2026-Q4", "format": "xlsx"}).json()
    assert client.get(run["links"]["file"], headers=headers).status_code == 200
    assert client.get(run["links"]["file"], headers=staff("viewer")).status_code == 403
    target = f"report_runs/{run['id']}"
    assert [t for _, t, _ in _audit(db, "report.generate", since)] == [target]
    assert [t for _, t, _ in _audit(db, "report.download", since)] == [target]
    runs = client.get("/api/v1/reports/runs?definition=ioc_activity_quarterly", headers=headers)
    assert run["id"] in [r["id"] for r in runs.json()["runs"]]


@pytest.mark.parametrize(("path", "body", "status", "parameter"), [
    ("/api/v1/reports/no_such_report/generate", {"period": "2026-Q3"}, 404, "report"),
    ("/api/v1/reports/socio_economic_quarterly/generate", {"period": "2026-Q5"}, 400, "period"),
    ("/api/v1/reports/socio_economic_quarterly/generate", {"period": "2026-07"}, 400, "period"),
])
def test_bad_requests_say_what_to_change(client, staff, path, body, status, parameter):
    response = client.post(path, headers=staff("leader"), json=body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["parameter"] == parameter


def test_a_bad_format_is_refused(client, staff):
    response = client.post("/api/v1/reports/socio_economic_quarterly/generate",
                           headers=staff("leader"), json={"period": "2026-Q3", "format": "odt"})
    assert response.status_code in (400, 422)


def test_a_definition_naming_an_unknown_indicator_is_refused():
    from gis_core.errors import ValidationError

    with pytest.raises(ValidationError, match="unknown indicator 'ti_le_ma'"):
        parse("id: thu_nghiem\ntitle: {vi: Thử}\nkind: thematic\nperiods: [year]\n"
              "audience: [leader]\nsections:\n  - kind: indicators\n    title: {vi: Bảng}\n"
              "    indicators: [ti_le_ma]\n")


def test_two_reports_generated_at_once_get_their_own_numbers(live_url, staff):
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    headers = staff("leader")

    def make(_: int) -> dict:
        response = httpx.post(f"{live_url}/api/v1/reports/sector_transport_monthly/generate",
                              headers=headers, json={"period": "2026-11", "format": "xlsx"},
                              timeout=120)
        assert response.status_code == 201, response.text
        return response.json()

    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(make, range(2))
    assert first["number"] != second["number"]
    assert first["figures_sha256"] == second["figures_sha256"]
