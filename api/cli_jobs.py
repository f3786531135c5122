"""``ioc worker`` and ``ioc jobs``: run background jobs, and list them."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Callable

from gis_core.errors import IocError
from gis_core.settings import Settings

Add = Callable[[str, Callable[[argparse.Namespace, Settings], None], str], argparse.ArgumentParser]


def _say(message: str) -> None:
    sys.stdout.write(message + "\n")
    sys.stdout.flush()


def _url(settings: Settings) -> str:
    from api.cli import database_url

    return database_url(settings, start_embedded=False)


def _cmd_worker(args: argparse.Namespace, settings: Settings) -> None:
    import api.app  # noqa: F401 - the composition root: every domain declares its jobs
    from api.logs import configure_logging
    from jobs.worker import run_forever

    configure_logging(settings)
    if args.concurrency:  # the jobs read it too (their pool's size)
        os.environ["IOC_JOB_CONCURRENCY"] = str(args.concurrency)
    url = _url(settings)
    _check_queue(url)
    run_forever(url, concurrency=args.concurrency or settings.job_concurrency,
                heartbeat_seconds=settings.job_heartbeat_seconds,
                stalled_seconds=settings.job_stalled_seconds)


def _check_queue(url: str) -> None:
    """One clear line when the database or its queue is missing (not endless reconnecting)."""
    import psycopg2

    try:
        with psycopg2.connect(url, connect_timeout=10) as conn, conn.cursor() as cur:
            cur.execute("SELECT 1 FROM procrastinate.procrastinate_jobs LIMIT 1")
    except psycopg2.Error as err:
        raise IocError(
            "Tiến trình xử lý việc nền không kết nối được hàng đợi trong cơ sở dữ liệu; kiểm tra "
            "DATABASE_URL và đã chạy 'ioc migrate'.",
            message_en="The worker cannot reach the job queue in the database; check DATABASE_URL "
            f"and that 'ioc migrate' ran ({type(err).__name__}).") from None


def _cmd_jobs(args: argparse.Namespace, settings: Settings) -> None:
    from gis_core.db import engine_for
    from jobs import status

    engine = engine_for(_url(settings))
    counts = status.counts(engine)
    _say("  ".join(f"{state}: {n}" for state, n in counts.items()))
    for job in status.listing(engine, status=args.status, limit=args.limit):
        outcome = (job["result"] or {}).get("http_status", "")
        _say(f"{job['id']:>8}  {job['status']:<10} {job['kind']:<8} {job['progress']:>5.0%}  "
             f"{job['owner'] or '-':<20} {job['created'] or '':<32} {outcome}")


def start_worker_process() -> subprocess.Popen[bytes]:
    """A worker beside the web workers (``ioc up``), stopped with them."""
    return subprocess.Popen([sys.executable, "-m", "api.cli", "worker"])


def add_commands(add: Add) -> None:
    """Declare ``worker`` and ``jobs`` on the ``ioc`` parser."""
    worker = add("worker", _cmd_worker, "Chạy tiến trình xử lý việc nền (nhập tệp, việc theo "
                 "lịch) / run a background-job worker")
    worker.add_argument("--concurrency", type=int, help="số việc chạy cùng lúc (mặc định 2)")
    jobs = add("jobs", _cmd_jobs, "Liệt kê việc nền / list background jobs")
    jobs.add_argument("--status", choices=("todo", "doing", "succeeded", "failed", "cancelled"),
                      help="chỉ các việc ở trạng thái này")
    jobs.add_argument("--limit", type=int, default=30, help="số dòng (mặc định 30)")
