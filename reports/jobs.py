"""Reports as background jobs: the long ones requested over HTTP, and the scheduled ones each day.

A report is *long* when it draws maps into a PDF or DOCX (a choropleth rendered per map section):
those answer 202 with a job whose result is what the request used to answer (201 and the run).
Tables-only reports and every XLSX stay in the request. ``due`` makes, every day, each periodic
report not yet made for its last closed period (``ioc report due`` runs the same function).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from procrastinate import JobContext
from sqlalchemy.engine import Engine

from gis_core.db import raw_cursor, translate_db_errors
from gis_core.errors import DatabaseUnavailableError, IocError
from governance import audit
from governance.access import Principal
from jobs import status
from jobs.imports import problem_of, worker_engine
from jobs.queue import TRANSIENT, app_for, declare
from reports import snapshot
from reports.definitions import Definition, require
from reports.figures import incident_of
from reports.schedule import run_due

tasks = declare("reports")
KIND = "report"
SCHEDULE_ACTOR = "lich-bao-cao"


def is_long(definition: Definition, fmt: str) -> bool:
    """Whether generating ``definition`` as ``fmt`` renders maps (the slow part): then a job."""
    return fmt != "xlsx" and any(s.kind == "map" for s in definition.sections)


def make(engine: Engine, who: Principal, definition: Definition, period: str, fmt: str,
         params: dict[str, Any]) -> dict[str, Any]:
    """Generate one report for ``who``, audited; the run with its file's link."""
    with raw_cursor(engine) as cursor:
        run = snapshot.generate(cursor, definition, period, fmt, who.label, params)
    audit.record_now(engine, "report.generate", actor=who, target=f"report_runs/{run['id']}",
                     details={"definition": definition.id, "period": run["period"], "format": fmt})
    return {**run, "links": {"file": f"/api/v1/reports/runs/{run['id']}/file"}}


def check(definition: Definition, period: str, fmt: str, params: dict[str, Any]) -> str:
    """What a request can be refused for before it is queued (400): the format, the period, the
    incident of an incident report; the period in its canonical form."""
    snapshot.check_format(fmt)
    if any(s.kind == "incident" for s in definition.sections):
        incident_of(params)
    return definition.check_period(period)


def submit(engine: Engine, who: Principal, definition: Definition, period: str, fmt: str,
           params: dict[str, Any]) -> int:
    """Queue the generation of a report for ``who`` (checked first); the job's id."""
    period = check(definition, period, fmt, params)
    app_for(engine.url.render_as_string(hide_password=False))
    job_id = generate.defer(definition=definition.id, period=period, fmt=fmt, params=params,
                            principal={**dataclasses.asdict(who), "scopes": sorted(who.scopes)})
    with translate_db_errors(), engine.begin() as conn:
        status.record(conn, job_id, KIND, who.username)
    return job_id


@tasks.task(name="generate", retry=TRANSIENT, pass_context=True)
def generate(context: JobContext, *, definition: str, period: str, fmt: str,
             params: dict[str, Any], principal: dict[str, Any]) -> None:
    """Generate a report requested over HTTP; the outcome is the request's answer."""
    engine = worker_engine()
    job_id = context.job.id
    assert job_id is not None
    who = Principal(**{**principal, "scopes": frozenset(principal["scopes"])})
    status.progress(engine, job_id, 0.1, "lập báo cáo / generating", KIND)
    try:
        outcome: dict[str, Any] = {"http_status": 201, "body": make(
            engine, who, require(definition), period, fmt, params)}
    except DatabaseUnavailableError:
        raise  # transient: retried
    except IocError as err:
        if not err.safe:
            raise
        outcome = {"http_status": err.status, "problem": problem_of(err)}
    with translate_db_errors(), engine.begin() as conn:
        status.finish(conn, job_id, outcome, KIND)


def make_due(engine: Engine, fmt: str, actor: str = SCHEDULE_ACTOR) -> list[dict[str, Any]]:
    """Generate every periodic report due for its last closed period, each audited."""
    with raw_cursor(engine) as cursor:
        made = run_due(cursor, fmt, actor)
    for run in made:
        audit.record_now(engine, "report.generate", actor=actor, target=f"report_runs/{run['id']}",
                         details={"definition": run["definition"], "period": run["period"],
                                  "format": run["format"], "via": "schedule"})
    return made


@tasks.periodic(cron="30 6 * * *", periodic_id="due")
@tasks.task(name="due", retry=TRANSIENT, queueing_lock="reports.due")
def due(timestamp: int) -> None:
    """Every day at 06:30 (server time): the periodic reports due, as PDF (``ioc report due``)."""
    make_due(worker_engine(), "pdf")
