"""Exports over IOC_EXPORT_INLINE_MAX as background jobs, run by a real worker process over real
HTTP: the file holds exactly what the inline export gives the same caller, and only that caller
downloads it."""

from __future__ import annotations

import csv
import io

import httpx
import psycopg2
import pytest

from tests.conftest import loaded_database, serving, wait_for_job, worker_process

PASSWORD = "Lai-Chau-2026-exports"
INLINE_MAX = 5
EXPORT = "/api/v1/layers/housing/export"


@pytest.fixture(scope="module")
def export_db():
    """A database of its own: only this module's worker (sharing the web's var/) runs its jobs."""
    yield from loaded_database("ioc_exports", scale=0.02)


@pytest.fixture(scope="module")
def site(export_db, tmp_path_factory):
    var = tmp_path_factory.mktemp("exports-var")
    with serving(export_db, var, export_inline_max=INLINE_MAX, anonymous_runs_per_minute=1000) \
            as url, worker_process(export_db, var, export_inline_max=INLINE_MAX):
        yield url


@pytest.fixture(scope="module")
def web(site):
    with httpx.Client(base_url=site, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def heads(export_db, web):
    from gis_core.db import engine_for
    from governance import accounts

    out = {}
    for name, role, department in (("x-leader", "leader", "so_xay_dung"),
                                   ("x-viewer", "viewer", None)):
        with engine_for(export_db).begin() as conn:
            accounts.create_account(conn, username=name, role=role, password=PASSWORD,
                                    department=department)
        token = web.post("/api/v1/auth/token",
                         json={"username": name, "password": PASSWORD}).json()["access_token"]
        out[name] = {"Authorization": f"Bearer {token}"}
    return out


def _rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def _count(url: str) -> int:
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM housing")
        return cur.fetchone()[0]


def _queued(web, headers, query: str) -> dict:
    response = web.get(f"{EXPORT}?{query}", headers=headers)
    assert response.status_code == 202, response.text
    assert response.headers["location"].endswith(response.json()["links"]["self"])
    settled = wait_for_job(web.get, response, headers)
    assert settled.status_code == 200, settled.text
    assert settled.job["kind"] == "export" and settled.job["status"] == "succeeded"
    return settled.body


@pytest.mark.parametrize("user, personal", [("x-leader", True), ("x-viewer", False)])
def test_a_large_export_is_a_job_with_the_callers_own_fields(web, heads, export_db, user,
                                                             personal):
    total = _count(export_db)
    assert total > INLINE_MAX
    inline = web.get(f"{EXPORT}?format=csv&limit={INLINE_MAX}", headers=heads[user])
    assert inline.status_code == 200 and inline.headers["x-feature-count"] == str(INLINE_MAX)

    body = _queued(web, heads[user], "format=csv")
    assert body["count"] == total and body["file"] == "housing_EPSG4326.csv"
    file = web.get(body["links"]["download"], headers=heads[user])
    assert file.status_code == 200 and file.headers["x-feature-count"] == str(total)
    rows = _rows(file.content)
    assert rows[0] == _rows(inline.content)[0]  # the same columns as the inline export
    assert ("head_of_household" in rows[0]) is personal
    assert len(rows) == total + 1
    assert rows[1:INLINE_MAX + 1] == _rows(inline.content)[1:]  # the same rows, same order


def test_the_personal_read_is_audited_for_the_caller_and_the_download_too(web, heads, export_db):
    body = _queued(web, heads["x-leader"], "format=geojson&crs=EPSG:9205")
    job = body["links"]["download"].rsplit("/", 1)[1]
    assert web.get(body["links"]["download"], headers=heads["x-leader"]).status_code == 200
    with psycopg2.connect(export_db) as conn, conn.cursor() as cur:
        cur.execute("SELECT actor, details->>'via', (details->>'count')::int FROM audit_log "
                    "WHERE action = 'read.personal' ORDER BY seq DESC LIMIT 1")
        assert cur.fetchone() == ("x-leader", "export:geojson", body["count"])
        cur.execute("SELECT actor FROM audit_log WHERE action = 'export.download' AND target = %s",
                    (f"job:{job}",))
        assert cur.fetchall() == [("x-leader",)]


def test_only_the_caller_who_asked_downloads_the_file(web, heads):
    body = _queued(web, heads["x-leader"], "format=csv")
    link = body["links"]["download"]
    other = web.get(link, headers=heads["x-viewer"])
    assert other.status_code == 404 and "head_of_household" not in other.text
    assert web.get(link).status_code == 401
    assert web.get("/api/v1/exports/999999", headers=heads["x-leader"]).status_code == 404


def test_a_hidden_field_is_refused_before_any_job(web, heads):
    response = web.get(EXPORT, params={"format": "csv", "filter": "citizen_id = '1'"},
                       headers=heads["x-viewer"])
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/problem+json")
    bad = web.get(f"{EXPORT}?format=pdf", headers=heads["x-leader"])
    assert bad.status_code == 400 and bad.json()["parameter"] == "format"


def test_small_exports_and_anonymous_ones_stay_inline(web, heads, export_db):
    small = web.get(f"{EXPORT}?format=csv&limit={INLINE_MAX}", headers=heads["x-viewer"])
    assert small.status_code == 200
    public = web.get("/api/v1/layers/communes/export?format=csv")
    assert public.status_code == 200 and int(public.headers["x-feature-count"]) > INLINE_MAX
