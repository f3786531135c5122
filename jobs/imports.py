"""Imports as background jobs: the request keeps the upload in the database and defers; a worker
checks it and applies it or, by the rule of edits, holds it for approval; the outcome is the job's
result (what the import request used to answer), read at ``/api/v1/jobs/{id}``.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from pathlib import Path
from typing import Any

from procrastinate import JobContext
from sqlalchemy import text
from sqlalchemy.engine import Engine

from gis_core.db import engine_for, translate_db_errors
from gis_core.errors import DatabaseUnavailableError, IocError
from gis_core.settings import Settings
from governance import audit, pending_imports
from governance.access import Principal
from jobs import status
from jobs.queue import TRANSIENT, app_for, declare
from layers.imports.load import ImportOptions, run_import
from layers.imports.problems import ImportRejected
from layers.registry import require_layer

tasks = declare("imports")
KIND = "import"


def links(job: int) -> dict[str, str]:
    """The links of an import job's report."""
    return {"job": f"/api/v1/imports/{job}", "report_json": f"/api/v1/imports/{job}/report.json",
            "report_csv": f"/api/v1/imports/{job}/report.csv"}


def rejected_extra(err: ImportRejected) -> dict[str, Any]:
    """What a 422 for a rejected file carries: the job, the first rows' errors, the links."""
    return {"job": err.report.job, "errors": [vars(e) for e in err.report.errors[:100]],
            "warnings": err.report.warnings, "links": links(err.report.job)}


def problem_of(err: IocError) -> dict[str, Any]:
    """A domain error as the fields of the problem the import request would have answered."""
    return {"status": err.status, "title": err.title, "detail": err.message,
            "detail_en": err.message_en, "code": err.code, "parameter": err.parameter,
            "extra": err.extra}


def submit(engine: Engine, principal: Principal, layer_id: str, path: Path, file_name: str,
           options: ImportOptions, mode: str) -> int:
    """Keep the uploaded file in the database and queue its import; the job's id."""
    app_for(engine.url.render_as_string(hide_password=False))
    with translate_db_errors(), engine.begin() as conn:
        upload = pending_imports.keep_file(conn.connection.dbapi_connection, path)
    try:
        job_id = run.defer(
            layer=layer_id, upload=upload, file_name=file_name, mode=mode,
            options=dataclasses.asdict(options),
            principal={**dataclasses.asdict(principal), "scopes": sorted(principal.scopes)})
    except Exception:
        with engine.begin() as conn:
            conn.execute(text("SELECT lo_unlink(:oid)"), {"oid": upload})
        raise
    with translate_db_errors(), engine.begin() as conn:
        status.record(conn, job_id, KIND, principal.username)
    return job_id


def _engine() -> Engine:
    settings = Settings()
    url = settings.resolved_database_url()
    if not url:
        raise DatabaseUnavailableError("Chưa cấu hình cơ sở dữ liệu cho tiến trình xử lý nền.",
                                       message_en="No database configured for the job worker.")
    # A job holds up to two connections at once (its import, and its progress reports).
    return engine_for(url, statement_timeout_ms=0, pool_size=2 * settings.job_concurrency + 1)


@tasks.task(name="run", retry=TRANSIENT, pass_context=True)
def run(context: JobContext, *, layer: str, upload: int, file_name: str, mode: str,
        options: dict[str, Any], principal: dict[str, Any]) -> None:
    """Check the uploaded file and apply it, or hold it for approval; the outcome is the result."""
    engine = _engine()
    job_id = context.job.id
    assert job_id is not None
    who = Principal(**{**principal, "scopes": frozenset(principal["scopes"])})
    opts = ImportOptions(**options)
    last = [0.0]

    def tell(stage: str, done: int, total: int) -> None:
        if time.monotonic() - last[0] > 1:
            last[0] = time.monotonic()
            status.progress(engine, job_id, 0.1 + 0.8 * done / max(total, 1), stage, KIND)

    status.progress(engine, job_id, 0.05, "đọc tệp / reading the file", KIND)
    with tempfile.TemporaryDirectory(prefix="ioc-job-") as folder:
        path = Path(folder) / Path(file_name).name
        with translate_db_errors(), engine.begin() as conn:
            pending_imports.restore_file(conn.connection.dbapi_connection, upload, path)
        result = _outcome(engine, who, layer, path, file_name, opts, mode, tell)
    with translate_db_errors(), engine.begin() as conn:
        status.finish(conn, job_id, result, KIND)
        conn.execute(text("SELECT lo_unlink(:oid) FROM pg_largeobject_metadata WHERE oid = :oid"),
                     {"oid": upload})


def _outcome(engine: Engine, who: Principal, layer_id: str, path: Path, file_name: str,
             options: ImportOptions, mode: str, tell: Any) -> dict[str, Any]:
    """What the import request would have answered: the HTTP status and its body or problem."""
    layer = require_layer(layer_id)
    try:
        if mode == "pending" and not options.dry_run:
            edit_id, report = pending_imports.submit(engine, who, layer, path, options, file_name)
            location = f"/api/v1/edits/{edit_id}"
            return {"http_status": 202, "location": location, "body": {
                "job": report.job, "status": "pending", "edit_id": edit_id,
                "report": report.as_dict(), "links": {**links(report.job), "edit": location}}}
        report = run_import(engine, layer.id, path, options, file_name=file_name, progress=tell)
    except ImportRejected as err:
        err.extra = rejected_extra(err)
        return {"http_status": 422, "problem": problem_of(err)}
    except DatabaseUnavailableError:
        raise  # transient: retried
    except IocError as err:
        if not err.safe:
            raise
        return {"http_status": err.status, "problem": problem_of(err)}
    if report.status != "dry_run":
        audit.record_now(engine, "import", actor=who, target=layer.id, details={
            "job": report.job, "status": report.status, "file": file_name,
            "sha256": report.file_sha256, "added": report.added, "changed": report.changed,
            "removed": report.removed})
    return {"http_status": 200 if report.status == "dry_run" else 201, "body": {
        "job": report.job, "status": report.status, "report": report.as_dict(),
        "links": links(report.job)}}
