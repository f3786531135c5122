"""Imports held for approval, by the rule of edits (``access.import_mode``).

A caller whose writes wait for review submits a file: it is checked whole, its job recorded as
``pending`` with what it would add, change and remove, and the file kept in the database (a
large object) beside a pending edit with ``op = 'import'`` that approvers list with the others.
Approval checks the kept file again against the current data and merges it; it is refused
(412) when the records of the dataset changed since the submission, since the import would
silently overwrite those changes. Declining removes the file and keeps the job as ``declined``.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from gis_core.db import translate_db_errors
from gis_core.errors import ConflictError, PreconditionFailedError
from governance import audit
from governance.access import Principal
from layers.imports.load import (
    ImportOptions,
    check_file,
    dataset_version,
    finish_job,
    insert_job,
    lock_layer,
    merge,
    new_report,
    record_job,
    sha256_of,
)
from layers.imports.problems import ImportRejected, ImportReport
from layers.registry import require_layer
from layers.spec import LayerSpec

CHUNK = 2**20
# What of the import options a submission keeps, to check the file again the same way.
KEPT_OPTIONS = ("crs", "mapping", "dataset", "key", "source_layer", "max_features")


def submit(engine: Engine, principal: Principal, layer: LayerSpec, path: Path,
           options: ImportOptions, file_name: str) -> tuple[int, ImportReport]:
    """Check ``path`` and hold it for approval; (pending edit id, report with the job).

    A file that fails the checks is refused at once (``ImportRejected``, its job recorded as
    rejected), exactly as a direct import would be.
    """
    report = new_report(layer, path, options, file_name)
    try:
        with translate_db_errors(), engine.begin() as conn:
            checked = check_file(conn, layer, path, options, report)
            raw = conn.connection.dbapi_connection
            with raw.cursor() as cur:
                report.status = "pending"
                report.job = insert_job(cur, report)
                # What approval would change today, for the approver; then undone.
                cur.execute("SAVEPOINT ioc_preview")
                merge(cur, layer, checked, principal.label, preview=options.preview)
                cur.execute("ROLLBACK TO SAVEPOINT ioc_preview")
                report.status = "pending"
                finish_job(cur, report)
                base = dataset_version(cur, layer, report.dataset)
            staged = keep_file(raw, path)
            summary = {"job": report.job, "dataset": report.dataset, "file_name": file_name,
                       "file_sha256": report.file_sha256, "features": report.features,
                       "added": report.added, "changed": report.changed,
                       "removed": report.removed, "unchanged": report.unchanged,
                       "options": {k: getattr(options, k) for k in KEPT_OPTIONS}}
            edit_id = conn.execute(text(
                "INSERT INTO pending_edits (layer, op, properties, base_etag, submitted_by, "
                "import_job, staged_file) VALUES (:layer, 'import', CAST(:props AS jsonb), :base, "
                ":by, :job, :file) RETURNING id"),
                {"layer": layer.id, "props": json.dumps(summary, ensure_ascii=False),
                 "base": base, "by": principal.username, "job": report.job, "file": staged}
            ).scalar_one()
            audit.record(conn, "import.submit", actor=principal, target=layer.id,
                         details={"job": report.job, "edit": edit_id, "file": file_name,
                                  "sha256": report.file_sha256, "added": report.added,
                                  "changed": report.changed, "removed": report.removed})
    except ImportRejected:
        record_job(engine, report)
        raise
    return edit_id, report


def apply(conn: Connection, principal: Principal, edit: dict[str, Any]) -> int:
    """Check the kept file again against the current data and merge it (the caller's
    transaction, which holds the edit's row); the job's id.

    412 when the dataset's records changed since the submission; ``ImportRejected`` (422) when
    the file no longer passes the checks (a commune code withdrawn since).
    """
    layer = require_layer(edit["layer"])
    raw = conn.connection.dbapi_connection
    summary = edit["properties"]
    options = ImportOptions(**summary["options"], actor=edit["submitted_by"])
    with tempfile.TemporaryDirectory(prefix="ioc-pending-") as folder:
        path = Path(folder) / Path(summary["file_name"]).name
        restore_file(raw, _staged_file(conn, edit["id"]), path)
        if sha256_of(path) != summary["file_sha256"]:
            raise ConflictError(
                f"Tệp của lần nhập {edit['import_job']} lưu chờ duyệt không còn nguyên vẹn; hãy "
                "từ chối và nhập lại.",
                message_en=f"The file kept for import {edit['import_job']} is no longer intact; "
                "reject it and import again.")
        report = new_report(layer, path, options, summary["file_name"])
        report.job = edit["import_job"]
        try:
            checked = check_file(conn, layer, path, options, report)
        except ImportRejected as err:
            err.report.job = edit["import_job"]
            raise
    with raw.cursor() as cur:
        lock_layer(cur, layer)
        if dataset_version(cur, layer, report.dataset) != edit["base_etag"]:
            raise PreconditionFailedError(
                f"Dữ liệu của bộ '{report.dataset}' trong lớp '{layer.id}' đã thay đổi sau khi tệp "
                "được gửi; duyệt lần nhập này sẽ ghi đè các thay đổi đó. Hãy từ chối và nhập lại "
                "tệp mới nhất.",
                message_en=f"The records of dataset '{report.dataset}' in '{layer.id}' changed "
                "after the file was submitted; approving this import would overwrite those "
                "changes. Reject it and import the latest file again.")
        merge(cur, layer, checked, principal.username or principal.label)
        report.reviewer = principal.username
        finish_job(cur, report)
    _discard(conn, edit["id"])
    return report.job


def decline(conn: Connection, principal: Principal, edit: dict[str, Any], reason: str) -> None:
    """Drop the kept file; the job stays, as ``declined`` with the reviewer and the reason."""
    _discard(conn, edit["id"])
    with conn.connection.dbapi_connection.cursor() as cur:
        cur.execute("SELECT report FROM import_jobs WHERE id = %s", (edit["import_job"],))
        report = ImportReport.from_dict(cur.fetchone()[0])
        report.status, report.reviewer, report.review_reason = "declined", principal.username, reason
        finish_job(cur, report)


def _staged_file(conn: Connection, edit_id: int) -> int | None:
    return conn.execute(text("SELECT staged_file FROM pending_edits WHERE id = :id"),
                        {"id": edit_id}).scalar()


def keep_file(raw: Any, path: Path) -> int:
    """Stream the file into a new large object; its oid."""
    blob = raw.lobject(0, "wb")
    with open(path, "rb") as source:
        while chunk := source.read(CHUNK):
            blob.write(chunk)
    blob.close()
    return blob.oid


def restore_file(raw: Any, oid: int | None, path: Path) -> None:
    """Write large object ``oid`` to ``path`` (409 when the file is gone)."""
    if oid is None:
        raise ConflictError("Lần nhập này không còn tệp chờ duyệt.",
                            message_en="This import no longer has a file awaiting review.")
    blob = raw.lobject(oid, "rb")
    with open(path, "wb") as target:
        while chunk := blob.read(CHUNK):
            target.write(chunk)
    blob.close()


def _discard(conn: Connection, edit_id: int) -> None:
    """Remove the kept file of a reviewed import (large objects outlive the rows naming them)."""
    oid = _staged_file(conn, edit_id)
    if oid is not None:
        conn.execute(text("SELECT lo_unlink(:oid)"), {"oid": oid})
        conn.execute(text("UPDATE pending_edits SET staged_file = NULL WHERE id = :id"),
                     {"id": edit_id})
