"""Watching the platform: liveness and readiness, Prometheus metrics summed over several web
workers, JSON logs and a request id that reaches PostgreSQL's application_name."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time

import httpx
import psycopg2

from tests.conftest import ROOT


def test_liveness_and_readiness(client, settings):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    checks = ready.json()["checks"]
    assert checks["database"]["ok"] and checks["queue"]["ok"] and checks["disk"]["ok"]
    assert checks["migrations"]["ok"] and checks["migrations"]["current"] == checks["migrations"]["head"]


def test_not_ready_on_a_database_without_the_schema(unmigrated_database, settings):
    from api.routes.health import checks
    from gis_core.db import engine_for

    found = checks(engine_for(unmigrated_database), settings.var_dir)
    assert not found["migrations"]["ok"] and not found["queue"]["ok"]


def test_the_request_id_comes_back_and_names_the_requests_connection(live_url, database_url):
    echoed = httpx.get(f"{live_url}/healthz", headers={"X-Request-ID": "chk-123"})
    assert echoed.headers["x-request-id"] == "chk-123"
    made = httpx.get(f"{live_url}/healthz", headers={"X-Request-ID": b"bad id\xe9 with spaces;x"})
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["x-request-id"])
    # A request held by a lock is visible in pg_stat_activity under its id.
    blocker = psycopg2.connect(database_url)
    results = {}
    try:
        with blocker.cursor() as cur:
            cur.execute("LOCK TABLE schools IN ACCESS EXCLUSIVE MODE")
        thread = threading.Thread(target=lambda: results.update(r=httpx.get(
            f"{live_url}/ogc/collections/schools/items?limit=1",
            headers={"X-Request-ID": "cham-truy-van-42"}, timeout=60)))
        thread.start()
        deadline = time.monotonic() + 60
        seen = []
        while not seen and time.monotonic() < deadline:
            with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
                cur.execute("SELECT application_name FROM pg_stat_activity WHERE "
                            "wait_event_type = 'Lock' AND datname = current_database()")
                seen = [row[0] for row in cur.fetchall()]
            time.sleep(0.05)
    finally:
        blocker.rollback()
        blocker.close()
    thread.join()
    assert seen == ["laichau-ioc cham-truy-van-42"]
    assert results["r"].status_code == 200


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_metrics_add_up_over_web_workers_and_logs_are_json_with_the_request_id(
        database_url, tmp_path):
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "IOC_VAR_DIR": str(tmp_path),
           "IOC_LOG_LEVEL": "INFO"}
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        server = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--workers", "2",
                                   "--port", str(port)], cwd=ROOT, env=env, stdout=out,
                                  stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.3)
        for n in range(40):  # fresh connections: the two workers share them
            httpx.get(f"{url}/api/v1/layers/communes", headers={"X-Request-ID": f"dem-{n}"})
        scrapes = {httpx.get(f"{url}/metrics").text for _ in range(6)}
        counted = set()
        for text in scrapes:
            found = re.search(r'ioc_http_requests_total\{method="GET",route="/api/v1/layers/'
                              r'\{layer_id\}",status="2xx"\} (\S+)', text)
            assert found, text[:3000]
            counted.add(float(found.group(1)))
        assert counted == {40.0}
        assert "ioc_jobs{status=" in text and "ioc_db_pool_connections_in_use" in text
        assert "ioc_http_request_seconds_bucket" in text
    finally:
        server.terminate()
        server.wait(timeout=60)
    lines = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()
             if line.startswith("{")]
    access = [entry for entry in lines if entry.get("request_id") == "dem-7"]
    assert access and access[0]["logger"] == "ioc.access" and "200" in access[0]["message"]


def test_the_operations_overview_is_for_operators(client, staff, database_url, job_worker):
    from jobs.queue import app_for

    # A job no worker knows (deferred by a newer version, say) fails and is listed as failed.
    job_id = app_for(database_url).configure_task("imports:unknown_task").defer(n=1)
    operator = staff("operator")
    deadline = time.monotonic() + 60
    while True:
        page = client.get("/api/v1/admin/operations", headers=operator)
        assert page.status_code == 200, page.text
        body = page.json()
        if job_id in [job["id"] for job in body["failed_jobs"]]:
            break
        assert time.monotonic() < deadline, body["failed_jobs"]
        time.sleep(0.2)
    assert body["queue"]["by_status"]["failed"] >= 1 and body["queue"]["workers"]
    assert body["ready"]["migrations"]["ok"] and body["replication"]["role"] == "primary"
    assert body["backup"]["status"] == "not configured"
    assert body["database_pool"]["size"] >= 1
    assert client.get("/api/v1/admin/operations",
                      headers=staff("leader", "so_xay_dung")).status_code == 403
    assert client.get("/api/v1/admin/operations").status_code == 401
    assert client.get("/api/v1/jobs?status=failed", headers=operator).json()[0]["id"] == job_id


def test_the_pool_keeps_its_connections_and_opens_none_under_load(empty_database):
    """The tail-latency fix: a fixed pool, opened at start, opens no connection mid-load
    (a database of its own: no other client to count)."""
    from concurrent.futures import ThreadPoolExecutor

    from gis_core.db import engine_for, open_pool

    engine = engine_for(empty_database, statement_timeout_ms=15_001, pool_size=3)
    open_pool(engine)
    assert engine.pool.checkedin() == 3

    def sessions():
        with psycopg2.connect(empty_database) as conn, conn.cursor() as cur:
            cur.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
            return cur.fetchone()[0]

    def query(_):
        with engine.connect() as conn:
            return conn.exec_driver_sql("SELECT count(*) FROM pg_class, pg_sleep(0.01)").scalar()

    before = sessions()
    with ThreadPoolExecutor(12) as pool:
        counts = set(pool.map(query, range(120)))
    assert len(counts) == 1
    assert sessions() - before == 1  # only the session that counted
    assert engine.pool.checkedin() == 3 and engine.pool.overflow() <= 0
