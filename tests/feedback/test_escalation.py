"""The deadline sweep on a simulated clock (across a weekend and the Hùng Kings' day), exactly
once under concurrent sweeps and real workers, its notices on the staff pages and overdue cases
on the situation view; the ``ioc feedback`` commands."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import date, datetime, timedelta

import psycopg2
import pytest

from feedback.cases import LOCAL
from tests.conftest import ROOT, loaded_database, worker_process
from tests.feedback.conftest import EMAIL, NAME, PHONE, audit_texts

KEY = b"s" * 32


@pytest.fixture(scope="module")
def sweep_db():
    """A database of its own: the sweeps here act on every open case of it."""
    yield from loaded_database("ioc_fb_sweep", scale=0.02)


def _sql(url, query, *params):
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(query, params)
        return cur.fetchall() if cur.description else None


def _point(url):
    return _sql(url, "SELECT ST_Y(p), ST_X(p) FROM communes, ST_PointOnSurface(geom) p "
                     "ORDER BY code LIMIT 1")[0]


def _case(url, received: datetime, service="road_damage", **extra) -> dict:
    from feedback import cases
    from gis_core.db import engine_for

    lat, lon = _point(url)
    with engine_for(url).begin() as conn:
        case, _ = cases.submit(conn, KEY, cases.Submission(
            service, "Sạt lở taluy dương trên tỉnh lộ", lat, lon, **extra), received=received)
    return case


def _at(day: date, hour: int = 8) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=LOCAL)


def _trail(url, rid):
    """(kind, on_day) of the notices, the sweep's steps and its audit entries of one case."""
    notices = _sql(url, "SELECT kind, on_day FROM feedback_notices WHERE request_id = %s "
                        "ORDER BY id", rid)
    steps = _sql(url, "SELECT action FROM feedback_events WHERE request_id = %s "
                      "AND actor = 'lich-han-phan-anh' ORDER BY id", rid)
    audit = _sql(url, "SELECT action FROM audit_log WHERE target = %s AND actor = "
                      "'lich-han-phan-anh' ORDER BY seq", f"feedback_requests/{rid}")
    return notices, [s[0] for s in steps], [a[0] for a in audit]


def test_warned_and_escalated_on_the_working_day_count(sweep_db):
    """Received Thursday 1 April 2027, 10 working days: due Thursday 15 April. Warned on Tuesday
    13 (2 working days left); the Hùng Kings' day (Friday 16) and the weekend do not count, so
    it is escalated on Monday 19 April, not before."""
    from feedback import escalation
    from gis_core.db import engine_for

    engine = engine_for(sweep_db)
    case = _case(sweep_db, _at(date(2027, 4, 1)), identity={"name": NAME, "phone": PHONE})
    answered = _case(sweep_db, _at(date(2027, 4, 1)))
    _sql(sweep_db, "UPDATE feedback_requests SET status = 'returned', response = 'Đã xử lý', "
                   "answered_at = '2027-04-09T03:00:00Z' WHERE id = %s", answered["id"])
    assert case["due_on"] == date(2027, 4, 15)
    seen = {}
    for day in (date(2027, 4, d) for d in range(12, 21)):
        for hour in (0, 8, 17):  # the hourly job: several sweeps a day change nothing more
            done = escalation.sweep(engine, _at(day, hour))
            for kind, ids in (("warning", done.warned), ("escalation", done.escalated)):
                if case["id"] in ids:
                    seen.setdefault(kind, day)
                assert answered["id"] not in ids
    assert seen == {"warning": date(2027, 4, 13), "escalation": date(2027, 4, 19)}
    notices, steps, audit = _trail(sweep_db, case["id"])
    assert notices == [("warning", date(2027, 4, 13)), ("escalation", date(2027, 4, 19))]
    assert steps == ["deadline_warning", "escalated"]
    assert audit == ["feedback.deadline_warning", "feedback.escalated"]
    recipients = _sql(sweep_db, "SELECT kind, recipient, days_left FROM feedback_notices WHERE "
                                "request_id = %s ORDER BY id", case["id"])
    assert recipients == [("warning", "so_xay_dung", 2), ("escalation", "operator", -1)]
    assert _trail(sweep_db, answered["id"]) == ([], [], [])
    # A sweep is a per-day decision: the same clock again, or a retry, adds nothing.
    again = escalation.sweep(engine, _at(date(2027, 4, 19), 9))
    assert case["id"] not in again.warned + again.escalated
    assert NAME not in audit_texts(sweep_db) and PHONE not in audit_texts(sweep_db)


def test_warned_at_a_share_of_a_long_deadline_across_tet(sweep_db):
    """A complaint (30 working days) received Monday 18 January 2027: Tết 2027 (5, 8-11 Feb)
    pushes its deadline to 8 March; warned once 80 % of its days have passed (6 left), on
    Friday 26 February rather than 2 days before."""
    from feedback import escalation
    from feedback.calendar import add_working_days
    from gis_core.db import engine_for

    case = _case(sweep_db, _at(date(2027, 1, 18)), service="complaint")
    assert case["due_on"] == add_working_days(date(2027, 1, 18), 30) == date(2027, 3, 8)
    engine = engine_for(sweep_db)
    assert case["id"] not in escalation.sweep(engine, _at(date(2027, 2, 25))).warned
    assert case["id"] in escalation.sweep(engine, _at(date(2027, 2, 26))).warned
    # With the share off, only the last 2 working days warn.
    other = _case(sweep_db, _at(date(2027, 1, 18)), service="denunciation")
    strict = escalation.Policy(warn_days=2, warn_share=1)
    assert other["id"] not in escalation.sweep(engine, _at(date(2027, 3, 3)), strict).warned
    assert other["id"] in escalation.sweep(engine, _at(date(2027, 3, 4)), strict).warned


def test_a_deadline_in_a_year_outside_the_table_is_skipped_and_named(sweep_db):
    from feedback import escalation
    from gis_core.db import engine_for

    case = _case(sweep_db, _at(date(2027, 12, 1)))
    _sql(sweep_db, "UPDATE feedback_requests SET due_on = '2028-01-05' WHERE id = %s", case["id"])
    done = escalation.sweep(engine_for(sweep_db), _at(date(2027, 12, 20)))
    skipped = {s["id"]: s for s in done.skipped}
    assert "2028" in skipped[case["id"]]["error"] and case["id"] not in done.warned
    _sql(sweep_db, "UPDATE feedback_requests SET status = 'returned', response = 'x', "
                   "answered_at = now() WHERE id = %s", case["id"])


def _once_each(url, ids):
    rows = _sql(url, "SELECT request_id, count(*) FROM feedback_notices WHERE kind = 'escalation' "
                     "AND request_id = ANY(%s) GROUP BY 1", list(ids))
    steps = _sql(url, "SELECT request_id, count(*) FROM feedback_events WHERE action = "
                      "'escalated' AND request_id = ANY(%s) GROUP BY 1", list(ids))
    audit = _sql(url, "SELECT target, count(*) FROM audit_log WHERE action = 'feedback.escalated' "
                      "AND target = ANY(%s) GROUP BY 1", [f"feedback_requests/{i}" for i in ids])
    return {r: n for r, n in rows}, {r: n for r, n in steps}, {t: n for t, n in audit}


def test_concurrent_sweeps_escalate_each_case_once(sweep_db):
    """Six sweeps on one clock at the same moment: the row lock and the notice's unique key let
    exactly one of them escalate each case."""
    from feedback import escalation
    from gis_core.db import engine_for

    ids = [_case(sweep_db, _at(date(2027, 5, 4)))["id"] for _ in range(30)]
    engine = engine_for(sweep_db, pool_size=8)
    now = _at(date(2027, 6, 1))
    start = threading.Barrier(6)
    results = []

    def run():
        start.wait()
        results.append(escalation.sweep(engine, now))

    threads = [threading.Thread(target=run) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(results) == 6
    claimed = [i for r in results for i in r.escalated if i in ids]
    assert sorted(claimed) == sorted(ids)  # each case by exactly one sweep
    notices, steps, audit = _once_each(sweep_db, ids)
    assert set(notices.values()) == set(steps.values()) == set(audit.values()) == {1}
    assert len(notices) == len(steps) == len(audit) == 30


def test_two_workers_running_the_sweep_job_escalate_each_case_once(sweep_db, tmp_path):
    """The sweep as the job the schedule runs, deferred eight times with one simulated clock and
    taken by two real worker processes at once."""
    from feedback.schedule import sweep
    from jobs.queue import app_for

    ids = [_case(sweep_db, _at(date(2027, 6, 7)))["id"] for _ in range(40)]
    now = _at(date(2027, 7, 1))
    app_for(sweep_db)
    # Each its own queueing lock, so all eight wait in the queue together.
    jobs = [sweep.configure(queueing_lock=f"feedback.sweep.t{i}").defer(
        timestamp=int(now.timestamp())) for i in range(8)]
    with worker_process(sweep_db, tmp_path / "a", job_concurrency=2), \
            worker_process(sweep_db, tmp_path / "b", job_concurrency=2):
        deadline = time.monotonic() + 120
        while _sql(sweep_db, "SELECT count(*) FROM procrastinate.procrastinate_jobs WHERE "
                             "id = ANY(%s) AND status NOT IN ('succeeded', 'failed')", jobs)[0][0]:
            assert time.monotonic() < deadline, "sweep jobs did not finish"
            time.sleep(0.2)
        workers = _sql(sweep_db, "SELECT count(DISTINCT worker_id), count(*) FILTER (WHERE "
                                 "status = 'succeeded') FROM procrastinate.procrastinate_jobs "
                                 "WHERE id = ANY(%s)", jobs)[0]
    assert workers == (2, 8)  # both workers ran sweeps, every one succeeded
    notices, steps, audit = _once_each(sweep_db, ids)
    assert len(notices) == len(steps) == len(audit) == 40
    assert set(notices.values()) == set(steps.values()) == set(audit.values()) == {1}
    on_day = _sql(sweep_db, "SELECT DISTINCT on_day FROM feedback_notices WHERE request_id = "
                            "ANY(%s) AND kind = 'escalation'", ids)
    assert on_day == [(date(2027, 7, 1),)]  # the job swept on the clock it was given


def _ioc(url, var_dir, *args):
    env = {**os.environ, "DATABASE_URL": url, "IOC_VAR_DIR": str(var_dir), "IOC_LOG_LEVEL": "WARNING"}
    return subprocess.run([sys.executable, "-m", "api.cli", "feedback", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_feedback_commands(sweep_db, tmp_path, monkeypatch, capsys):
    # Received Monday 3 August 2026, due 17 August: overdue by any clock from then on.
    case = _case(sweep_db, _at(date(2026, 8, 3)), service="waste",
                 identity={"name": NAME, "phone": PHONE, "email": EMAIL})
    swept = _ioc(sweep_db, tmp_path, "sweep", "--now", "2026-09-07T08:00")
    assert swept.returncode == 0, swept.stderr
    assert swept.stdout.startswith("2026-09-07:") and str(case["id"]) in swept.stdout
    listed = _ioc(sweep_db, tmp_path, "list", "--overdue", "--department", "so_nn_mt")
    assert listed.returncode == 0, listed.stderr
    line = next(x for x in listed.stdout.splitlines() if x.startswith(f"{case['id']}\t"))
    assert "OVERDUE" in line and "Người phản ánh #" in line
    shown = _ioc(sweep_db, tmp_path, "show", str(case["id"]))
    assert shown.returncode == 0, shown.stderr
    assert '"escalated"' in shown.stdout and "Người phản ánh #" in shown.stdout
    for secret in (NAME, PHONE, EMAIL):
        assert secret not in shown.stdout + listed.stdout + swept.stdout
    _sql(sweep_db, "UPDATE feedback_requests SET status = 'returned', response = 'Đã thu gom', "
                   "answered_at = '2026-08-05T03:00:00Z', rating = 5 WHERE id = %s", case["id"])
    # The rest in this process, through the same entry point (a process each is slow).
    from api.cli import main

    monkeypatch.setenv("DATABASE_URL", sweep_db)
    monkeypatch.setenv("IOC_VAR_DIR", str(tmp_path))
    capsys.readouterr()
    main(["feedback", "stats", "--by", "category", "--period", "2026-08"])
    row = next(x.split("\t") for x in capsys.readouterr().out.splitlines() if x.startswith("waste\t"))
    assert row[1:] == ["1", "1", "5.0", "100.0", "1", "1", "100.0"]
    for args, word in ((("sweep", "--now", "tomorrow"), "--now"), (("show", "99999999"), "99999999"),
                       (("list", "--status", "late"), "--status"), (("stats", "--by", "x"), "--by"),
                       (("stats", "--period", "2027-13"), "2027-13")):
        with pytest.raises(SystemExit) as exited:
            main(["feedback", *args])
        out = capsys.readouterr()
        assert exited.value.code == 1 and out.out == "", args
        assert len(out.err.strip().splitlines()) == 1 and word in out.err, out.err


def test_notices_on_the_staff_pages_and_overdue_cases_on_the_map(client, staff, spot, database_url):
    """On the session's app: a case past its deadline is raised (as the sweep does, for this case
    only), shown to the operator and its department, marked seen, and on /api/v1/warnings."""
    from feedback import cases, escalation
    from gis_core.db import engine_for

    lat, lon, commune, _ = spot
    engine = engine_for(database_url)
    with engine.begin() as conn:
        case, _ = cases.submit(conn, KEY, cases.Submission(
            "road_damage", "Đường sụt lún", lat, lon, identity={"name": NAME}))
    rid = case["id"]
    due = date.today() - timedelta(days=10)
    _sql(database_url, "UPDATE feedback_requests SET due_on = %s WHERE id = %s", due, rid)
    with engine.begin() as conn:
        assert escalation.raise_notice(conn, rid, "escalation", due, date.today(), -5)
        assert not escalation.raise_notice(conn, rid, "escalation", due, date.today(), -5)
    op, editor = staff("operator"), staff("department_editor", "so_xay_dung")
    other = staff("department_editor", "so_y_te")
    mine = client.get("/api/v1/feedback/notices?unseen=true", headers=op).json()
    notice = next(n for n in mine["notices"] if n["request_id"] == rid)
    assert notice["kind"] == "escalation" and notice["recipient"] == "operator"
    assert mine["unseen_escalations"] >= 1
    assert rid in {n["request_id"] for n in client.get("/api/v1/feedback/notices",
                                                       headers=editor).json()["notices"]}
    assert rid not in {n["request_id"] for n in client.get("/api/v1/feedback/notices",
                                                           headers=other).json()["notices"]}
    assert client.post(f"/api/v1/feedback/notices/{notice['id']}/seen", headers=other).status_code == 403
    assert client.get("/api/v1/feedback/notices").status_code == 401
    seen = client.post(f"/api/v1/feedback/notices/{notice['id']}/seen", headers=op).json()
    assert seen["seen_by"] == "t-operator-all"
    missing = client.post("/api/v1/feedback/notices/99999999/seen", headers=op)
    assert missing.status_code == 404 and missing.json()["detail"].startswith("Không có")
    page = client.get("/staff/deadlines", headers=op)
    assert page.status_code == 200 and "Hạn xử lý phản ánh" in page.text
    assert client.get("/staff/deadlines", headers=staff("viewer")).status_code == 403
    warnings = client.get("/api/v1/warnings").json()
    shown = next(c for c in warnings["feedback_overdue"] if c["id"] == rid)
    assert shown["escalated"] is True and shown["commune_code"] == commune
    assert shown["working_days_overdue"] >= 5
    assert "description" not in shown and NAME not in client.get("/api/v1/warnings").text
    assert "feedback-overdue" in client.get("/map").text
    _sql(database_url, "UPDATE feedback_requests SET status = 'returned', response = 'Đã sửa', "
                       "answered_at = now() WHERE id = %s", rid)
    assert rid not in {c["id"] for c in client.get("/api/v1/warnings").json()["feedback_overdue"]}
