"""The worker: runs queued jobs, beats its heart, and puts back the jobs of workers that died."""

from __future__ import annotations

import asyncio
import logging
import os
import socket

import procrastinate

from gis_core.settings import Settings
from jobs.queue import app_for, declare

LOG = logging.getLogger("ioc.jobs")
tasks = declare("jobs")


async def recover_stalled(app: procrastinate.App, stalled_seconds: float) -> int:
    """Queue again the jobs whose worker stopped beating for ``stalled_seconds`` (killed, its
    machine gone); how many."""
    stalled = await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=stalled_seconds)
    count = 0
    for job in stalled:
        LOG.warning("job %s (%s) was running on a worker that stopped; queued again",
                    job.id, job.task_name)
        await app.job_manager.retry_job(job)
        count += 1
    return count


@tasks.periodic(cron="* * * * *", periodic_id="recover")
@tasks.task(name="recover_stalled", queueing_lock="jobs.recover_stalled", pass_context=True)
async def recover_stalled_jobs(context: procrastinate.JobContext, timestamp: int) -> None:
    """Every minute, on whichever worker takes it: put back the jobs of dead workers."""
    await recover_stalled(context.app, Settings().job_stalled_seconds)


async def run(url: str, *, concurrency: int = 2, heartbeat_seconds: float = 10,
              stalled_seconds: float = 30, name: str | None = None) -> None:
    """Run a worker on database ``url`` until it is stopped (SIGINT/SIGTERM: running jobs end
    first)."""
    app = app_for(url, max_size=concurrency + 3, opened=False)
    async with app.open_async():
        await recover_stalled(app, stalled_seconds)
        await app.run_worker_async(
            name=name or f"{socket.gethostname()}-{os.getpid()}", concurrency=concurrency,
            update_heartbeat_interval=heartbeat_seconds, stalled_worker_timeout=stalled_seconds,
            install_signal_handlers=True)


def run_forever(url: str, **options: float | int | str | None) -> None:
    """``run`` in its own event loop (the ``ioc worker`` command)."""
    asyncio.run(run(url, **options))  # type: ignore[arg-type]
