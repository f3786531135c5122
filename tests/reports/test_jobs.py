"""Reports as jobs on a real worker process: a report with maps in PDF is queued and its result is
the former answer; a tables-only one stays in the request; a bad request is refused before any
job; the daily ``reports:due`` job makes what ``ioc report due`` makes."""

from __future__ import annotations

import time

from tests.conftest import wait_for_job

URL = "/api/v1/reports/sector_transport_monthly/generate"


def test_a_report_with_maps_is_a_job_whose_result_is_the_run(client, leader, db):
    response = client.post(URL, headers=leader, json={"period": "2026-10", "format": "pdf"})
    assert response.status_code == 202, response.text
    assert response.headers["location"].endswith(f"/api/v1/jobs/{response.json()['id']}")
    settled = wait_for_job(client.get, response, leader)
    assert settled.status_code == 201 and settled.job["kind"] == "report"
    run = settled.json()
    assert run["definition"] == "sector_transport_monthly" and run["period"] == "2026-10"
    file = client.get(run["links"]["file"], headers=leader)
    assert file.status_code == 200 and file.content.startswith(b"%PDF")
    assert file.headers["x-content-sha256"] == run["file_sha256"]
    with db.cursor() as cur:
        cur.execute("SELECT actor FROM audit_log WHERE action = 'report.generate' AND target = %s",
                    (f"report_runs/{run['id']}",))
        assert cur.fetchall() == [("t-leader-all",)]


def test_xlsx_stays_in_the_request_and_bad_input_is_refused_before_a_job(client, leader, db):
    with db.cursor() as cur:
        cur.execute("SELECT count(*) FROM procrastinate.procrastinate_jobs "
                    "WHERE task_name = 'reports:generate'")
        before = cur.fetchone()[0]
        inline = client.post(URL, headers=leader, json={"period": "2026-10", "format": "xlsx"})
        assert inline.status_code == 201 and inline.json()["links"]["file"]
        bad = client.post(URL, headers=leader, json={"period": "2026-Q5", "format": "pdf"})
        assert bad.status_code == 400 and bad.json()["parameter"] == "period"
        no_incident = client.post("/api/v1/reports/emergency_incident/generate", headers=leader,
                                  json={"period": "2026-11", "format": "pdf"})
        assert no_incident.status_code == 400 and no_incident.json()["parameter"] == "incident"
        cur.execute("SELECT count(*) FROM procrastinate.procrastinate_jobs "
                    "WHERE task_name = 'reports:generate'")
        assert cur.fetchone()[0] == before


def test_the_daily_due_job_makes_the_periodic_reports_once(database_url, db):
    from jobs.queue import app_for
    from reports import jobs as report_jobs
    from reports.schedule import due

    with db.cursor() as cur:
        wanted = set(due(cur, "pdf"))
    app_for(database_url)
    job = report_jobs.due.defer(timestamp=int(time.time()))
    deadline = time.monotonic() + 600
    with db.cursor() as cur:
        while True:
            cur.execute("SELECT status::text FROM procrastinate.procrastinate_jobs WHERE id = %s",
                        (job,))
            state = cur.fetchone()[0]
            if state in ("succeeded", "failed"):
                break
            assert time.monotonic() < deadline, "reports:due still " + state
            time.sleep(0.2)
        assert state == "succeeded"
        assert due(cur, "pdf") == []
        cur.execute("SELECT definition, period FROM report_runs WHERE format = 'pdf' "
                    "AND generated_by = 'lich-bao-cao'")
        assert wanted <= set(cur.fetchall())
