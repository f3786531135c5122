"""Running a harvest: claim the source, pull it, check it with the import pipeline and merge it by
source key in one transaction (with the source's new state), or record why not and keep the last
good data. ``run_due`` runs every enabled source whose interval has passed."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from gis_core.db import translate_db_errors
from gis_core.errors import ConflictError, IocError, NotFoundError
from harvest.declarations import Declaration, from_stored
from harvest.fetch import SourceFailed, fetch
from layers.imports.load import (
    ImportOptions,
    check_file,
    finish_job,
    insert_job,
    merge,
    new_report,
    record_job,
)
from layers.imports.problems import ImportRejected, ImportReport
from layers.registry import require_layer

# A claim older than this belongs to a runner that died: the source may be run again.
CLAIM_TIMEOUT = "2 hours"


def _claim(engine: Engine, name: str) -> Declaration:
    with translate_db_errors(), engine.begin() as conn:
        row = conn.exec_driver_sql(
            "UPDATE harvest_sources SET claimed_at = now() WHERE name = %(n)s AND (claimed_at IS "
            "NULL OR claimed_at < now() - %(t)s::interval) RETURNING declaration",
            {"n": name, "t": CLAIM_TIMEOUT}).first()
        if row is None:
            exists = conn.exec_driver_sql("SELECT 1 FROM harvest_sources WHERE name = %(n)s",
                                          {"n": name}).first()
            if exists is None:
                raise NotFoundError(f"Không có nguồn thu thập '{name}'.",
                                    message_en=f"No harvest source '{name}'.")
            raise ConflictError(f"Nguồn '{name}' đang được thu thập; thử lại sau.",
                                message_en=f"Source '{name}' is being harvested; try again later.")
    return from_stored(row[0])


def _columns(report: ImportReport) -> list[str]:
    return sorted(set(report.mapping.values()))


def _schema_change(before: list[str] | None, report: ImportReport) -> None:
    """Refuse a source that lost columns which fed the layer at the last good run (matched by
    name, a column gone would otherwise leave its field empty on every feature)."""
    gone = sorted(set(before or ()) - set(_columns(report)))
    if gone:
        raise SourceFailed(f"Cấu trúc nguồn đã đổi: mất cột {', '.join(gone)}.",
                           f"The source's schema changed: columns {', '.join(gone)} are gone.")


def _options(decl: Declaration, actor: str) -> ImportOptions:
    return ImportOptions(crs=decl.crs, mapping=decl.mapping or None, dataset=decl.dataset,
                         key=decl.key, source_layer=decl.sheet, actor=actor,
                         max_features=decl.max_features)


def run_source(engine: Engine, name: str, actor: str) -> dict[str, Any]:
    """Harvest source ``name`` now; the run's record (status, counts, error). A failure is
    recorded on the source, never raised, except that the source is unknown or already running."""
    decl = _claim(engine, name)
    layer = require_layer(decl.layer)
    options = _options(decl, actor)
    started = time.perf_counter()
    report: ImportReport | None = None
    try:
        with tempfile.TemporaryDirectory(prefix="ioc-harvest-") as folder:
            path = fetch(decl, Path(folder))
            report = new_report(layer, path, options, file_name=decl.url)
            with translate_db_errors(), engine.connect() as conn:
                before = conn.exec_driver_sql("SELECT columns FROM harvest_sources WHERE name = "
                                              "%(n)s", {"n": name}).scalar()
                checked = check_file(conn, layer, path, options, report)
            _schema_change(before, report)
            return _store(engine, decl, checked, actor, time.perf_counter() - started)
    except Exception as err:  # noqa: BLE001 - whatever a source sends, the run is recorded
        if isinstance(err, ImportRejected):
            record_job(engine, err.report)
        if isinstance(err, IocError) and (err.safe or isinstance(err, SourceFailed)):
            vi, en = err.message, err.message_en
        else:
            vi = f"Không đọc được nguồn ({type(err).__name__}: {str(err)[:200]})."
            en = f"Cannot read the source ({type(err).__name__}: {str(err)[:200]})."
        return _failed(engine, decl, actor, vi, en, report, time.perf_counter() - started)
    finally:
        with translate_db_errors(), engine.begin() as conn:
            conn.exec_driver_sql("UPDATE harvest_sources SET claimed_at = NULL WHERE name = %(n)s",
                                 {"n": name})


_RUN = ("INSERT INTO harvest_runs (source, status, actor, features, added, changed, removed, "
        "import_job, error, error_en, seconds, finished_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, "
        "%s, %s, %s, now()) RETURNING id, started_at")


def _store(engine: Engine, decl: Declaration, checked: Any, actor: str, seconds: float
           ) -> dict[str, Any]:
    """Merge the checked rows and record the run and the source's good state, all in one
    transaction."""
    report = checked.report
    layer = require_layer(decl.layer)
    conn = engine.raw_connection()
    try:
        with translate_db_errors(), conn.cursor() as cur:
            report.job = insert_job(cur, report)
            merge(cur, layer, checked, actor)
            finish_job(cur, report)
            cur.execute(_RUN, (decl.name, report.status, actor, report.features, report.added,
                               report.changed, report.removed, report.job, None, None, seconds))
            run, started = cur.fetchone()
            cur.execute("UPDATE harvest_sources SET last_run_at = now(), last_success_at = now(), "
                        "failing_since = NULL, last_error = NULL, last_error_en = NULL, "
                        "columns = %s WHERE name = %s",
                        (json.dumps(_columns(report), ensure_ascii=False), decl.name))
        conn.commit()
    finally:
        conn.rollback()
        conn.close()
    return {"id": run, "source": decl.name, "layer": decl.layer, "status": report.status,
            "started_at": started, "features": report.features, "added": report.added,
            "changed": report.changed, "removed": report.removed, "import_job": report.job,
            "seconds": round(seconds, 3), "warnings": report.warnings}


def _failed(engine: Engine, decl: Declaration, actor: str, vi: str, en: str,
            report: ImportReport | None, seconds: float) -> dict[str, Any]:
    job = report.job if report else None
    with translate_db_errors(), engine.begin() as conn:
        cur = conn.connection.cursor()
        cur.execute(_RUN, (decl.name, "failed", actor, report.features if report else None, 0, 0,
                           0, job, vi, en, seconds))
        run, started = cur.fetchone()
        cur.execute("UPDATE harvest_sources SET last_run_at = now(), failing_since = "
                    "coalesce(failing_since, now()), last_error = %s, last_error_en = %s "
                    "WHERE name = %s", (vi, en, decl.name))
    return {"id": run, "source": decl.name, "layer": decl.layer, "status": "failed",
            "started_at": started, "added": 0, "changed": 0, "removed": 0, "import_job": job,
            "error": vi, "error_en": en, "seconds": round(seconds, 3)}


def due(engine: Engine) -> list[str]:
    """The enabled sources whose interval has passed since their last run, oldest first."""
    with translate_db_errors(), engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT name FROM harvest_sources WHERE enabled AND claimed_at IS NULL AND "
            "(last_run_at IS NULL OR last_run_at + every_minutes * interval '1 minute' <= now()) "
            "ORDER BY last_run_at NULLS FIRST, name").all()
    return [r[0] for r in rows]


def run_due(engine: Engine, actor: str) -> list[dict[str, Any]]:
    """Run every due source (one skipped when another runner took it meanwhile)."""
    runs = []
    for name in due(engine):
        try:
            runs.append(run_source(engine, name, actor))
        except ConflictError:
            continue
    return runs
