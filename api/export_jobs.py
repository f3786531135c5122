"""Exports, inline or as background jobs: one path from a caller and a query string to a file.

``prepare`` checks the request for a principal (who may see the features, which fields, the
refusal of hidden ones) and ``write`` writes the file and audits the personal read. The inline
export runs them in the request; an export of more than ``IOC_EXPORT_INLINE_MAX`` features is
deferred with the caller's principal and query in the job's arguments, and the worker runs the
same two functions, so a job hands out exactly what the inline export would have. The file waits
under ``var/exports/<job>/`` for its owner (``/api/v1/exports/{job}``) for
``IOC_EXPORT_KEEP_HOURS``.
"""

from __future__ import annotations

import dataclasses
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from procrastinate import JobContext
from psycopg2 import sql
from sqlalchemy.engine import Engine

from api.visibility import audit_personal_read, refuse_hidden_parameters
from gis_core.db import translate_db_errors
from gis_core.errors import DatabaseUnavailableError, IocError, invalid_parameter
from gis_core.settings import Settings
from governance.access import Principal, require_features, visible_specs
from jobs import status
from jobs.imports import problem_of, worker_engine
from jobs.queue import TRANSIENT, app_for, declare
from layers.export import (
    ExportFormat,
    ExportResult,
    export_layer,
    parse_export_crs,
    parse_format,
    parse_geometry_columns,
)
from layers.features import output_fields
from layers.items import ItemsQuery, items_where, parse_items_query
from layers.registry import require_layer
from layers.spec import FieldSpec, LayerSpec

tasks = declare("exports")
KIND = "export"
# Parameters of the export itself; every other one is an items filter (bbox, datetime, filter…).
OWN = ("format", "crs", "geometry", "limit", "package")


@dataclass(frozen=True)
class ExportRequest:
    """A checked export request: for whom, of what, in which format and CRS."""

    principal: Principal
    layer: LayerSpec
    pairs: tuple[tuple[str, str], ...]
    fmt: ExportFormat
    srid: int
    geometry: str | None
    limit: int | None
    query: ItemsQuery
    visible: tuple[FieldSpec, ...]

    @property
    def query_string(self) -> str:
        """The request's parameters, as the audit records them."""
        return urlencode(self.pairs)


def _limit(raw: str | None) -> int | None:
    if raw is None:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise invalid_parameter("limit", "Cần một số nguyên dương.", "A positive integer is required.",
                                value=raw)
    return int(raw)


def prepare(engine: Engine, settings: Settings, principal: Principal, layer: LayerSpec,
            pairs: list[tuple[str, str]]) -> ExportRequest:
    """Check an export request of ``principal`` (401, 403 audited, 400 naming the parameter)."""
    require_features(principal, layer)
    params = dict(pairs)
    fmt = parse_format(params.get("format", "gpkg"))
    srid = parse_export_crs(params.get("crs"))
    geometry = parse_geometry_columns(params.get("geometry"))
    limit = _limit(params.get("limit"))
    rest = [(k, v) for k, v in pairs if k not in OWN]
    refuse_hidden_parameters(engine, principal, layer, rest)
    visible = visible_specs(principal, layer)
    query = parse_items_query(rest, layer, default_limit=settings.default_limit,
                              max_limit=settings.max_limit, visible=visible)
    return ExportRequest(principal, layer, tuple(pairs), fmt, srid, geometry, limit, query, visible)


def count_up_to(engine: Engine, request: ExportRequest, bound: int) -> int:
    """How many features the export holds, counted no further than ``bound + 1``."""
    bound = min(bound + 1, request.limit or bound + 1)
    selected = items_where(request.layer, request.query, request.visible)
    statement = sql.SQL("SELECT count(*) FROM (SELECT 1 FROM {}{} LIMIT {}) s").format(
        sql.Identifier(request.layer.id), selected.clause(), sql.Literal(bound))
    with translate_db_errors():
        raw = engine.raw_connection()
    try:
        with translate_db_errors(), raw.cursor() as cur:
            cur.execute(statement, selected.params)
            return int(cur.fetchone()[0])
    finally:
        raw.close()


def write(engine: Engine, request: ExportRequest, directory: Path) -> ExportResult:
    """Write the export into ``directory`` and audit the personal fields it hands out."""
    with translate_db_errors():
        raw = engine.raw_connection()
    try:
        result = export_layer(raw.driver_connection, request.layer, request.fmt, request.srid,
                              directory, query=request.query, visible=request.visible,
                              limit=request.limit, geometry_columns=request.geometry)
    finally:
        raw.close()
    audit_personal_read(engine, request.principal, request.layer,
                        output_fields(request.layer, request.query, request.visible),
                        result.count, via=f"export:{request.fmt.id}", query=request.query_string)
    return result


def folder(var_dir: Path, job_id: int) -> Path:
    """Where export job ``job_id`` leaves its file."""
    return Path(var_dir).resolve() / "exports" / str(int(job_id))


def download_link(job_id: int) -> str:
    """The URL of an export job's file (for the account that asked)."""
    return f"/api/v1/exports/{job_id}"


def submit(engine: Engine, request: ExportRequest) -> int:
    """Queue the export of ``request``; the job's id."""
    app_for(engine.url.render_as_string(hide_password=False))
    who = request.principal
    job_id = run.defer(layer=request.layer.id, pairs=[list(p) for p in request.pairs],
                       principal={**dataclasses.asdict(who), "scopes": sorted(who.scopes)})
    with translate_db_errors(), engine.begin() as conn:
        status.record(conn, job_id, KIND, who.username)
    return job_id


@tasks.task(name="run", retry=TRANSIENT, pass_context=True)
def run(context: JobContext, *, layer: str, pairs: list[list[str]],
        principal: dict[str, Any]) -> None:
    """Write the export for the caller who asked, as the inline export would; the file's link is
    the result."""
    engine = worker_engine()
    settings = Settings()
    job_id = context.job.id
    assert job_id is not None
    who = Principal(**{**principal, "scopes": frozenset(principal["scopes"])})
    status.progress(engine, job_id, 0.05, "ghi tệp / writing the file", KIND)
    directory = folder(settings.var_dir, job_id)
    shutil.rmtree(directory, ignore_errors=True)  # a retried attempt starts afresh
    directory.mkdir(parents=True)
    try:
        request = prepare(engine, settings, who, require_layer(layer),
                          [(k, v) for k, v in pairs])
        done = write(engine, request, directory)
        outcome: dict[str, Any] = {"http_status": 200, "body": {
            "file": done.filename, "media_type": done.media_type, "count": done.count,
            "srid": done.srid, "links": {"download": download_link(job_id)}}}
    except DatabaseUnavailableError:
        raise  # transient: retried
    except IocError as err:
        if not err.safe:
            raise
        shutil.rmtree(directory, ignore_errors=True)
        outcome = {"http_status": err.status, "problem": problem_of(err)}
    with translate_db_errors(), engine.begin() as conn:
        status.finish(conn, job_id, outcome, KIND)


def remove_expired(var_dir: Path, keep_hours: float) -> int:
    """Delete the export files older than ``keep_hours``; how many folders went."""
    root = Path(var_dir).resolve() / "exports"
    cutoff = time.time() - keep_hours * 3600
    gone = 0
    for entry in root.iterdir() if root.is_dir() else ():
        if entry.is_dir() and entry.stat().st_mtime < cutoff:
            shutil.rmtree(entry, ignore_errors=True)
            gone += 1
    return gone


@tasks.periodic(cron="17 * * * *", periodic_id="expire")
@tasks.task(name="expire", queueing_lock="exports.expire")
def expire(timestamp: int) -> None:
    """Every hour: remove the export files kept longer than ``IOC_EXPORT_KEEP_HOURS``."""
    settings = Settings()
    remove_expired(settings.var_dir, settings.export_keep_hours)
