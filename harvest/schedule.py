"""The harvest schedule on the job queue: every minute, on whichever worker takes it, each
enabled source whose interval has passed is pulled (what ``ioc harvest due`` does from cron).
The operations page shows how many sources are down."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.engine import Engine

from gis_core.db import engine_for
from gis_core.errors import DatabaseUnavailableError
from gis_core.settings import Settings
from governance import audit
from harvest import run, sources
from jobs.operations import add_probe
from jobs.queue import declare

LOG = logging.getLogger("ioc.harvest")
tasks = declare("harvest")
ACTOR = "lich-thu-thap"


def _engine() -> Engine:
    settings = Settings()
    url = settings.resolved_database_url()
    if not url:
        raise DatabaseUnavailableError("Chưa cấu hình cơ sở dữ liệu cho việc thu thập.",
                                       message_en="No database configured for harvesting.")
    return engine_for(url, statement_timeout_ms=0)


def run_due(engine: Engine) -> list[dict[str, Any]]:
    """Pull every due source, each run audited; the runs."""
    done = run.run_due(engine, ACTOR)
    for r in done:
        audit.record_now(engine, "harvest.run", actor=ACTOR, target=f"harvest_sources/{r['source']}",
                         outcome="ok" if r["status"] != "failed" else "failed",
                         details={"via": "job", **{k: r.get(k) for k in (
                             "status", "added", "changed", "removed", "import_job")}})
        if r["status"] == "failed":
            LOG.warning("harvest %s failed: %s", r["source"], r.get("error_en"))
    return done


@tasks.periodic(cron="* * * * *", periodic_id="due")
@tasks.task(name="due", queueing_lock="harvest.due")
def due(timestamp: int) -> None:
    """Every minute: the due sources (a source is claimed, so two workers never pull it twice)."""
    run_due(_engine())


def _probe(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        rows = sources.listing(conn)
    down = [r["name"] for r in rows if r["state"] == "stale"]
    return {"ok": not down, "sources": len(rows), "stale": down}


add_probe("harvest", _probe)
