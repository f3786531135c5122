"""The deadline sweep on the job queue: every hour, on whichever worker takes it (``ioc feedback
sweep`` runs it at once). The tick's time is the sweep's ``now``; a job deferred with another
``timestamp`` sweeps on that clock. The operations page shows the escalations no one has seen
yet and whether the holiday table covers the deadlines."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

from feedback import escalation
from feedback.calendar import coverage
from gis_core.db import engine_for
from gis_core.errors import DatabaseUnavailableError
from gis_core.settings import Settings
from jobs.operations import add_probe
from jobs.queue import TRANSIENT, declare

tasks = declare("feedback")


def policy(settings: Settings) -> escalation.Policy:
    """The warning policy the settings give (``IOC_FEEDBACK_WARN_DAYS``, ``…_WARN_SHARE``)."""
    return escalation.Policy(warn_days=settings.feedback_warn_days,
                             warn_share=settings.feedback_warn_share)


@tasks.periodic(cron="7 * * * *", periodic_id="sweep")
@tasks.task(name="sweep", queueing_lock="feedback.sweep", retry=TRANSIENT)
def sweep(timestamp: int) -> dict[str, Any]:
    """Warn and escalate the cases whose day has come at ``timestamp`` (seconds since 1970)."""
    settings = Settings()
    url = settings.resolved_database_url()
    if not url:
        raise DatabaseUnavailableError("Chưa cấu hình cơ sở dữ liệu.",
                                       message_en="No database is configured.")
    now = datetime.fromtimestamp(timestamp, UTC)
    return escalation.sweep(engine_for(url), now, policy(settings)).as_dict()


def _probe(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        unseen = conn.execute(text("SELECT count(*) FROM feedback_notices WHERE kind = "
                                   "'escalation' AND seen_at IS NULL")).scalar_one()
    table = coverage(escalation.local_day(datetime.now(UTC)))
    return {"ok": table["ok"], "escalations_unseen": unseen, "holidays": table}


add_probe("feedback_deadlines", _probe)
