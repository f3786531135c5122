"""What a job reports while it runs and what came of it, read together with the queue's state."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from gis_core.db import fetch, translate_db_errors

# The queue's states in the words of the progress URL.
STATES = {"todo": "queued", "doing": "running", "succeeded": "succeeded", "failed": "failed",
          "cancelled": "cancelled", "aborting": "running", "aborted": "cancelled"}
_SELECT = """
    SELECT j.id, j.task_name, j.status::text, j.attempts, r.kind, r.owner, r.progress, r.stage,
           r.result, coalesce(r.created_at, j.scheduled_at), r.updated_at
      FROM procrastinate.procrastinate_jobs j
      LEFT JOIN job_results r ON r.job_id = j.id
"""


def record(conn: Connection, job_id: int, kind: str, owner: str | None) -> None:
    """Note who started job ``job_id`` and of which kind (when it is deferred)."""
    conn.execute(text(
        "INSERT INTO job_results (job_id, kind, owner) VALUES (:id, :kind, :owner) "
        "ON CONFLICT (job_id) DO UPDATE SET kind = excluded.kind, owner = excluded.owner"),
        {"id": job_id, "kind": kind, "owner": owner})


def progress(engine: Engine, job_id: int, fraction: float, stage: str, kind: str = "job") -> None:
    """Report how far job ``job_id`` got (0 to 1) and what it is doing."""
    with translate_db_errors(), engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO job_results (job_id, kind, progress, stage) VALUES (:id, :kind, :p, :s) "
            "ON CONFLICT (job_id) DO UPDATE SET progress = :p, stage = :s, updated_at = now()"),
            {"id": job_id, "kind": kind, "p": fraction, "s": stage})


def finish(conn: Connection, job_id: int, result: dict[str, Any], kind: str = "job") -> None:
    """Keep the result of job ``job_id`` (in the caller's transaction)."""
    conn.execute(text(
        "INSERT INTO job_results (job_id, kind, progress, stage, result) "
        "VALUES (:id, :kind, 1, 'done', CAST(:r AS json)) ON CONFLICT (job_id) DO UPDATE "
        "SET progress = 1, stage = 'done', result = excluded.result, updated_at = now()"),
        {"id": job_id, "kind": kind, "r": json.dumps(result, ensure_ascii=False)})


def _as_dict(row: Any) -> dict[str, Any]:
    return {"id": row[0], "task": row[1], "status": STATES.get(row[2], row[2]),
            "attempts": row[3], "kind": row[4] or row[1].rsplit(":", 1)[-1], "owner": row[5],
            "progress": row[6] or 0.0, "stage": row[7], "result": row[8],
            "created": row[9].isoformat() if row[9] else None,
            "updated": row[10].isoformat() if row[10] else None}


def describe(engine: Engine, job_id: int) -> dict[str, Any] | None:
    """Job ``job_id`` as the progress URL shows it, or None when there is none."""
    with engine.connect() as conn:
        rows = fetch(conn, _SELECT + " WHERE j.id = :id", {"id": job_id})
    return _as_dict(rows[0]) if rows else None


def listing(engine: Engine, *, status: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """The latest jobs, newest first (``status``: the queue's word, e.g. ``failed``)."""
    by_word = {word: state for state, word in STATES.items() if state not in ("aborting", "aborted")}
    status = by_word.get(status or "", status)
    where = " WHERE j.status::text = :status" if status else ""
    with engine.connect() as conn:
        rows = fetch(conn, _SELECT + where + " ORDER BY j.id DESC LIMIT :limit",
                     {"status": status, "limit": limit})
    return [_as_dict(row) for row in rows]


def counts(engine: Engine) -> dict[str, int]:
    """How many jobs are in each state of the queue (queued, running, failed…)."""
    with engine.connect() as conn:
        rows = fetch(conn, "SELECT status::text, count(*) FROM procrastinate.procrastinate_jobs "
                     "GROUP BY status")
    out: dict[str, int] = dict.fromkeys(("queued", "running", "succeeded", "failed", "cancelled"), 0)
    for state, n in rows:
        out[STATES.get(state, state)] = out.get(STATES.get(state, state), 0) + n
    return out
