"""What the operators watch: the queue, failed jobs, the workers, replication, and probes other
domains add (the last backup).

A domain adds a probe once, at import time::

    from jobs.operations import add_probe

    add_probe("backup", lambda engine: {"ok": True, "last": "2026-12-07T02:00:00Z", ...})

Each probe answers a JSON-able dict; one that raises shows as ``{"ok": false, "error": …}``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Engine

from gis_core.db import fetch
from jobs import status

Probe = Callable[[Engine], dict[str, Any]]
PROBES: dict[str, Probe] = {}


def add_probe(name: str, probe: Probe) -> None:
    """Show ``probe``'s answer under ``name`` on the operations page (replaces one so named)."""
    PROBES[name] = probe


def _no_backup(_: Engine) -> dict[str, Any]:
    return {"ok": None, "status": "not configured",
            "detail": "Chưa cấu hình sao lưu / no backup configured"}


add_probe("backup", _no_backup)


def workers(engine: Engine, stalled_seconds: float) -> list[dict[str, Any]]:
    """The workers that beat within ``stalled_seconds``, with the jobs each is running."""
    with engine.connect() as conn:
        rows = fetch(conn, """
            SELECT w.id, w.last_heartbeat, count(j.id)
              FROM procrastinate.procrastinate_workers w
              LEFT JOIN procrastinate.procrastinate_jobs j
                ON j.worker_id = w.id AND j.status = 'doing'
             WHERE w.last_heartbeat > now() - make_interval(secs => :s)
             GROUP BY w.id, w.last_heartbeat ORDER BY w.id""", {"s": stalled_seconds})
    return [{"id": r[0], "last_heartbeat": r[1].isoformat(), "running": r[2]} for r in rows]


def replication(engine: Engine) -> dict[str, Any]:
    """This server's role and, on a primary, its standbys and their lag (PostgreSQL's views)."""
    with engine.connect() as conn:
        standby, replay_lag = fetch(conn, (
            "SELECT pg_is_in_recovery(), "
            "extract(epoch FROM now() - pg_last_xact_replay_timestamp())"))[0]
        if standby:
            return {"role": "standby", "replay_lag_seconds": replay_lag}
        rows = fetch(conn, (
            "SELECT application_name, client_addr::text, state, sync_state, "
            "extract(epoch FROM replay_lag), pg_wal_lsn_diff(sent_lsn, replay_lsn) "
            "FROM pg_stat_replication ORDER BY application_name"))
    return {"role": "primary", "standbys": [
        {"name": r[0], "address": r[1], "state": r[2], "sync": r[3],
         "replay_lag_seconds": float(r[4]) if r[4] is not None else None,
         "replay_lag_bytes": int(r[5]) if r[5] is not None else None} for r in rows]}


def overview(engine: Engine, stalled_seconds: float, failed_limit: int = 20) -> dict[str, Any]:
    """The whole operations picture."""
    probes: dict[str, Any] = {}
    for name, probe in PROBES.items():
        try:
            probes[name] = probe(engine)
        except Exception as err:  # noqa: BLE001 - one broken probe does not hide the others
            probes[name] = {"ok": False, "error": type(err).__name__}
    counts = status.counts(engine)
    return {"queue": {"depth": counts["queued"], "running": counts["running"],
                      "by_status": counts, "workers": workers(engine, stalled_seconds)},
            "failed_jobs": status.listing(engine, status="failed", limit=failed_limit),
            "replication": replication(engine), **probes}
