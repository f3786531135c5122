"""Periodic reports on a schedule: each definition with a ``schedule`` is generated once for the
last completed period of its kind. Run ``ioc report due`` from cron (or the job runner); a report
is one transaction, so a run that fails midway leaves no half report and the next run makes it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from reports.definitions import definitions
from reports.figures import ICT
from reports.snapshot import generate
from scenarios.period import previous


def current_period(kind: str, now: datetime) -> str:
    """The period of ``kind`` (month, quarter, year) that ``now`` falls in, in Vietnam's time."""
    local = now.astimezone(ICT)
    if kind == "year":
        return str(local.year)
    if kind == "quarter":
        return f"{local.year}-Q{(local.month - 1) // 3 + 1}"
    return f"{local.year}-{local.month:02d}"


def due(cursor: Any, fmt: str, now: datetime | None = None) -> list[tuple[str, str]]:
    """(definition, period) of the scheduled reports not yet made for their last closed period."""
    now = now or datetime.now(UTC)
    wanted = [(d.id, previous(current_period(d.schedule, now)))
              for d in definitions().values() if d.schedule]
    cursor.execute("SELECT definition, period FROM report_runs WHERE format = %s", (fmt,))
    made = set(cursor.fetchall())
    return [w for w in wanted if w not in made]


def run_due(cursor: Any, fmt: str, actor: str, now: datetime | None = None) -> list[dict[str, Any]]:
    """Generate every due report; the runs made."""
    return [generate(cursor, definitions()[report_id], period, fmt, actor)
            for report_id, period in due(cursor, fmt, now)]
