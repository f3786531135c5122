"""Intake under concurrency, through real uvicorn servers and concurrent HTTP clients: the rate
limit is exact across two server processes (the database the arbiter) and refuses in the Open311
error format; reports posted at once are all stored, each with one audit entry chained before
its answer, the chain verifies (``ioc audit --verify``) and the layer's count includes every
report."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from xml.etree import ElementTree as ET

import httpx
import psycopg2

from tests.conftest import ROOT, serving
from tests.feedback.conftest import PHONE

BUCKET = "feedback:127.0.0.1"


def _forget_counts(database_url: str) -> None:
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("DELETE FROM rate_limits WHERE bucket = %s", (BUCKET,))


LIMIT = 40


def _post(url: str, key: str, spot, i: int, fmt: str = "json") -> httpx.Response:
    lat, lon, _, _ = spot
    return httpx.post(f"{url}/open311/v2/requests.{fmt}", data={
        "api_key": key, "service_code": "road_damage", "lat": str(lat), "long": str(lon),
        "description": f"Ổ gà số {i}", "phone": PHONE}, timeout=60)


def test_concurrent_reports_are_limited_exactly_chained_and_counted(
        database_url, tmp_path, app_key, spot):
    """Two server processes share the limit (40 an hour from one address); 60 reports and
    refused keys sent at once by 16 clients: exactly 40 get past the limit, every stored report
    has its audit entry chained before its answer, and the chain verifies."""
    _forget_counts(database_url)
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT coalesce(max(seq), 0) FROM audit_log")
        since = cur.fetchone()[0]
    limits = {"feedback_posts_per_minute": LIMIT, "rate_window_seconds": 3600}
    try:
        with serving(database_url, tmp_path / "a", **limits) as one, \
                serving(database_url, tmp_path / "b", **limits) as two:
            def work(i: int) -> httpx.Response:
                url = (one, two)[i % 2]
                if i % 5 == 4:  # a refused key: its entry is chained at once, under the lock
                    return httpx.post(f"{url}/open311/v2/requests.json",
                                      data={"api_key": "ioc_bad_key"}, timeout=60)
                return _post(url, app_key, spot, i)

            with ThreadPoolExecutor(16) as pool:
                answers = list(pool.map(work, range(60)))
            codes = [a.status_code for a in answers]
            assert codes.count(429) == 60 - LIMIT  # exactly the limit, whichever server counted
            assert codes.count(201) + codes.count(401) == LIMIT
            refused = next(a for a in answers if a.status_code == 429)
            assert refused.headers["content-type"].startswith("application/json")
            [error] = refused.json()
            assert error["code"] == 429 and "phản ánh" in error["description"]
            assert int(refused.headers["Retry-After"]) > 0 and PHONE not in refused.text
            xml = _post(two, app_key, spot, 99, "xml")
            assert xml.status_code == 429 and xml.headers["content-type"].startswith("text/xml")
            root = ET.fromstring(xml.content)
            assert root.tag == "errors" and root.findtext("error/code") == "429"
            assert "phản ánh" in root.findtext("error/description")
            # The rest of the API keeps problem+json for the same refusal.
            web = httpx.post(f"{one}/api/v1/feedback/requests", data={"description": "x"},
                             timeout=30)
            assert web.status_code == 429
            assert web.headers["content-type"].startswith("application/problem+json")
            stored = [int(a.json()[0]["service_request_id"]) for a in answers
                      if a.status_code == 201]
            # Each answer came after its entry was chained and its report counted.
            with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
                cur.execute("SELECT target FROM audit_log WHERE seq > %s AND action = "
                            "'feedback.received'", (since,))
                chained = [int(t.rsplit("/", 1)[1]) for (t,) in cur.fetchall()]
                # (earlier reports of the session left pending are chained along)
                assert stored and all(chained.count(i) == 1 for i in stored)
                cur.execute("SELECT count(*) FROM feedback_requests WHERE id = ANY(%s)", (stored,))
                assert cur.fetchone()[0] == len(stored)
                cur.execute("SELECT count(*) FROM audit_log WHERE seq > %s AND action = "
                            "'auth.refused'", (since,))
                assert cur.fetchone()[0] >= codes.count(401)
                cur.execute("SELECT n, (SELECT count(*) FROM feedback_requests) "
                            "FROM feature_counts WHERE layer = 'feedback_points'")
                counted, rows = cur.fetchone()
                assert counted == rows
                cur.execute("SELECT count(*) FROM feature_count_pending")
                assert cur.fetchone()[0] == 0
    finally:
        _forget_counts(database_url)
    verified = subprocess.run(
        [sys.executable, "-m", "api.cli", "audit", "--verify"], cwd=ROOT, capture_output=True,
        text=True, env={**os.environ, "DATABASE_URL": database_url,
                        "IOC_VAR_DIR": str(tmp_path / "a")}, timeout=300)
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_other_open311_errors_come_in_its_format(client):
    unknown = client.get("/open311/v2/nothing-here.xml")
    assert unknown.status_code == 404 and ET.fromstring(unknown.content).tag == "errors"
    too_large = client.post("/open311/v2/requests.json", data={"description": "x" * (2**20 + 10)})
    assert too_large.status_code == 413 and too_large.json()[0]["code"] == 413
    no_key = client.post("/open311/v2/requests.xml", data={"service_code": "road_damage"})
    assert no_key.status_code == 401
    assert ET.fromstring(no_key.content).findtext("error/code") == "401"
    assert client.get("/api/v1/nothing-here").headers["content-type"].startswith(
        "application/problem+json")


