"""Background jobs with real worker processes over real HTTP: an import queued and followed to its
report, a worker killed mid-import whose job another worker finishes, two workers sharing a queue
without ever running one job twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid

import httpx
import psycopg2
import pytest

from tests.conftest import ROOT, loaded_database, serving, wait_for_job, worker_process

PASSWORD = "Lai-Chau-2026-jobs"
HEADER = "Loài cây,Chiều cao (m),Tình trạng,kinh_do,vi_do\n"


@pytest.fixture(scope="module")
def jobs_db():
    """A database of its own: these tests choose which workers run its queue."""
    yield from loaded_database("ioc_jobs", scale=0.02)


@pytest.fixture(scope="module")
def site(jobs_db, tmp_path_factory):
    with serving(jobs_db, tmp_path_factory.mktemp("jobs-web")) as url:
        yield url


def _sql(url, query, *params):
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(query, params)
        return cur.fetchall() if cur.description else None


@pytest.fixture(scope="module")
def accounts(jobs_db, site):
    from gis_core.db import engine_for
    from governance import accounts as store

    headers = {}
    for name, role, department in (("j-op", "operator", None),
                                   ("j-editor", "department_editor", "so_xay_dung")):
        with engine_for(jobs_db).begin() as conn:
            store.create_account(conn, username=name, role=role, password=PASSWORD,
                                 department=department)
        token = httpx.post(f"{site}/api/v1/auth/token",
                           json={"username": name, "password": PASSWORD}).json()["access_token"]
        headers[name] = {"Authorization": f"Bearer {token}"}
    return headers


def _trees(jobs_db, rows: int) -> bytes:
    [(lon, lat)] = _sql(jobs_db, "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p "
                        "FROM communes ORDER BY code LIMIT 1) s")
    return (HEADER + "".join(f"Pơ mu {i},{5 + i % 7},Tốt,{lon},{lat}\n" for i in range(rows))
            ).encode()


def _queue(site, headers, body: bytes, dataset: str) -> httpx.Response:
    response = httpx.post(f"{site}/api/v1/layers/trees/imports", headers=headers, timeout=60,
                          files={"file": ("cây.csv", body, "text/csv")}, data={"dataset": dataset})
    assert response.status_code == 202, response.text
    return response


def _settle(site, headers, response):
    return wait_for_job(lambda url, headers: httpx.get(site + url, headers=headers, timeout=30),
                        response, headers)


def _count(db, dataset):
    return _sql(db, "SELECT count(*) FROM trees WHERE source_dataset = %s", dataset)[0][0]


def test_an_import_is_queued_at_once_and_its_job_outlives_the_request(jobs_db, site, accounts,
                                                                       tmp_path):
    op = accounts["j-op"]
    queued = _queue(site, op, _trees(jobs_db, 3), "hang_doi")
    job_id = queued.json()["id"]
    assert queued.headers["location"].endswith(f"/api/v1/jobs/{job_id}")
    # No worker yet: the job waits, readable by whoever started it, by no one else.
    waiting = httpx.get(f"{site}/api/v1/jobs/{job_id}", headers=op).json()
    assert waiting["status"] == "queued" and waiting["result"] is None
    assert httpx.get(f"{site}/api/v1/jobs/{job_id}",
                     headers=accounts["j-editor"]).status_code == 404
    assert httpx.get(f"{site}/api/v1/jobs/{job_id}").status_code == 401
    assert _count(jobs_db, "hang_doi") == 0
    with worker_process(jobs_db, tmp_path / "w"):
        done = _settle(site, op, queued)
    assert done.status_code == 201 and done.job["status"] == "succeeded"
    assert done.job["progress"] == 1 and done.json()["report"]["added"] == 3
    report = httpx.get(site + done.job["links"]["job"], headers=op).json()
    assert report["added"] == 3 and report["file_name"] == "cây.csv"
    assert _count(jobs_db, "hang_doi") == 3
    # The upload kept for the worker is gone once the job is done.
    assert _sql(jobs_db, "SELECT count(*) FROM pg_largeobject_metadata")[0][0] == 0
    listed = subprocess.run([sys.executable, "-m", "api.cli", "jobs"], cwd=ROOT, text=True,
                            capture_output=True, env={**os.environ, "DATABASE_URL": jobs_db})
    assert listed.returncode == 0 and f"{job_id}" in listed.stdout and "succeeded" in listed.stdout


def test_a_job_on_a_killed_worker_is_finished_by_another_never_half_applied(
        jobs_db, site, accounts, tmp_path):
    op = accounts["j-op"]
    fast = {"job_heartbeat_seconds": 0.5, "job_stalled_seconds": 3}
    blocker = psycopg2.connect(jobs_db)
    with blocker.cursor() as cur:  # the import will wait for the layer, mid-job
        cur.execute("LOCK TABLE trees IN SHARE ROW EXCLUSIVE MODE")
    queued = _queue(site, op, _trees(jobs_db, 40), "giua_chung")
    job_id = queued.json()["id"]
    with worker_process(jobs_db, tmp_path / "a", **fast) as first:
        deadline = time.monotonic() + 120
        while _sql(jobs_db, "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                   "current_database() AND wait_event_type = 'Lock'")[0][0] < 1:
            assert time.monotonic() < deadline and first.poll() is None
            time.sleep(0.1)
        assert httpx.get(f"{site}/api/v1/jobs/{job_id}", headers=op).json()["status"] == "running"
        first.send_signal(signal.SIGKILL)
        first.wait()
    blocker.rollback()
    blocker.close()
    assert _count(jobs_db, "giua_chung") == 0
    # Once the dead worker's heartbeat is older than the limit, the next worker takes the job back.
    while _sql(jobs_db, "SELECT count(*) FROM procrastinate.procrastinate_workers WHERE "
               "last_heartbeat > now() - interval '3.5 seconds'")[0][0]:
        time.sleep(0.2)
    with worker_process(jobs_db, tmp_path / "b", **fast):
        done = _settle(site, op, queued)
    assert done.status_code == 201, done.text
    assert done.job["attempts"] == 2 and done.job["status"] == "succeeded"
    assert _count(jobs_db, "giua_chung") == 40
    assert _sql(jobs_db, "SELECT count(*) FROM import_jobs WHERE report->>'dataset' = "
                "'giua_chung' AND status = 'imported'")[0][0] == 1


def test_two_workers_share_the_queue_and_never_run_one_job_twice(jobs_db, site, accounts,
                                                                 tmp_path):
    op = accounts["j-op"]
    tag = uuid.uuid4().hex[:6]
    queued = [_queue(site, op, _trees(jobs_db, 2), f"song_song_{tag}_{n}") for n in range(12)]
    with worker_process(jobs_db, tmp_path / "a", job_concurrency=3), \
            worker_process(jobs_db, tmp_path / "b", job_concurrency=3):
        done = [_settle(site, op, response) for response in queued]
    assert [d.status_code for d in done] == [201] * 12
    assert {d.job["attempts"] for d in done} == {1}
    runs = _sql(jobs_db, "SELECT report->>'dataset', count(*) FROM import_jobs WHERE "
                "report->>'dataset' LIKE %s GROUP BY 1", f"song_song_{tag}_%")
    assert len(runs) == 12 and {n for _, n in runs} == {1}
    assert sum(_count(jobs_db, f"song_song_{tag}_{n}") for n in range(12)) == 24


def test_a_worker_without_its_queue_says_so_in_one_line(unmigrated_database):
    ran = subprocess.run([sys.executable, "-m", "api.cli", "worker"], cwd=ROOT, text=True,
                         capture_output=True, timeout=120,
                         env={**os.environ, "DATABASE_URL": unmigrated_database})
    assert ran.returncode == 1
    assert ran.stderr.strip().splitlines()[-1].startswith("ioc: lỗi:")
    assert "ioc migrate" in ran.stderr and "Traceback" not in ran.stderr
