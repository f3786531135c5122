"""Public-opinion work in the background: the run over every source, every 30 minutes (``ioc
opinion fetch`` runs it at once), a retraining with the operators' corrections (``ioc opinion
retrain``) and an import of the declared villages (``ioc opinion villages FILE.csv``), the last
two queued by an operator over HTTP."""

from __future__ import annotations

from typing import Any

from procrastinate import JobContext
from sqlalchemy.engine import Engine

from gis_core.db import engine_for, translate_db_errors
from gis_core.errors import ConflictError, DatabaseUnavailableError, IocError
from gis_core.settings import Settings
from jobs import status
from jobs.imports import problem_of, worker_engine
from jobs.queue import TRANSIENT, app_for, declare
from opinion import ingest, learning, sources, villages

tasks = declare("opinion")
KIND_RETRAIN = "opinion_retrain"
KIND_VILLAGES = "opinion_villages"


@tasks.periodic(cron="*/30 * * * *", periodic_id="fetch")
@tasks.task(name="fetch", queueing_lock="opinion.fetch", retry=TRANSIENT)
def fetch(timestamp: int) -> dict:
    """Fetch every declared source once; what was kept and skipped."""
    settings = Settings()
    url = settings.resolved_database_url()
    if not url:
        raise DatabaseUnavailableError("Chưa cấu hình cơ sở dữ liệu.",
                                       message_en="No database is configured.")
    report = ingest.run(engine_for(url), sources.load(settings.var_dir / "opinion_sources.json"))
    return report.as_dict()


def _defer(engine: Engine, task: Any, kind: str, owner: str, **kwargs: Any) -> int:
    app_for(engine.url.render_as_string(hide_password=False))
    job_id = task.defer(**kwargs)
    with translate_db_errors(), engine.begin() as conn:
        status.record(conn, job_id, kind, owner)
    return job_id


def submit_retrain(engine: Engine, actor: str) -> int:
    """Queue a retraining for ``actor``; the job's id (409 while one is waiting to run)."""
    from procrastinate.exceptions import AlreadyEnqueued

    try:
        return _defer(engine, retrain, KIND_RETRAIN, actor, actor=actor)
    except AlreadyEnqueued:
        raise ConflictError(
            "Đã có một lần huấn luyện lại đang chờ chạy; hãy đợi nó xong rồi xem các phiên bản.",
            message_en="A retraining is already waiting to run; wait for it, then look at the "
            "versions.") from None


def submit_villages(engine: Engine, data: str, actor: str) -> int:
    """Queue an import of a village CSV (checked when it runs, all rows or none); the job's id."""
    return _defer(engine, import_villages, KIND_VILLAGES, actor, data=data, actor=actor)


def _finish(engine: Engine, job_id: int, kind: str, work: Any, http_status: int) -> None:
    try:
        outcome: dict[str, Any] = {"http_status": http_status, "body": work()}
    except DatabaseUnavailableError:
        raise  # transient: retried
    except IocError as err:
        if not err.safe:
            raise
        outcome = {"http_status": err.status, "problem": problem_of(err)}
    with translate_db_errors(), engine.begin() as conn:
        status.finish(conn, job_id, outcome, kind)


@tasks.task(name="retrain", queueing_lock="opinion.retrain", retry=TRANSIENT, pass_context=True)
def retrain(context: JobContext, *, actor: str) -> None:
    """Retrain with the corrections; the new version, its figures and whether it is active."""
    engine = worker_engine()
    job_id = context.job.id
    assert job_id is not None  # noqa: S101 - a running job has its id
    status.progress(engine, job_id, 0.1, "huấn luyện / training", KIND_RETRAIN)
    _finish(engine, job_id, KIND_RETRAIN, lambda: learning.retrain(engine, actor), 201)


@tasks.task(name="villages", retry=TRANSIENT, pass_context=True)
def import_villages(context: JobContext, *, data: str, actor: str) -> None:
    """Replace the declared villages by the file's rows (all or none)."""
    engine = worker_engine()
    job_id = context.job.id
    assert job_id is not None  # noqa: S101 - a running job has its id

    def work() -> dict[str, Any]:
        rows = villages.read(data.encode("utf-8"))
        with engine.begin() as conn:
            return villages.replace(conn, rows, actor)

    _finish(engine, job_id, KIND_VILLAGES, work, 201)
