"""The declared sources in the database: keep, list, remove, their runs, and their state as the
staff pages and the situation view show it (a failing source is "stale since …")."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from gis_core.db import translate_db_errors
from gis_core.errors import NotFoundError
from harvest.declarations import Declaration, from_stored

_SELECT = ("SELECT name, layer, declaration, enabled, every_minutes, created_by, updated_at, "
           "claimed_at, last_run_at, last_success_at, failing_since, last_error, last_error_en "
           "FROM harvest_sources ")


def put(conn: Connection, decl: Declaration, actor: str) -> bool:
    """Create or replace the declaration of ``decl.name``; True when it is new."""
    import json

    with translate_db_errors():
        row = conn.exec_driver_sql(
            "INSERT INTO harvest_sources (name, layer, declaration, enabled, every_minutes, "
            "created_by) VALUES (%(n)s, %(l)s, %(d)s, %(e)s, %(m)s, %(a)s) ON CONFLICT (name) DO "
            "UPDATE SET layer = excluded.layer, declaration = excluded.declaration, "
            "enabled = excluded.enabled, every_minutes = excluded.every_minutes, updated_at = now() "
            "RETURNING (xmax = 0)",
            {"n": decl.name, "l": decl.layer, "d": json.dumps(decl.as_dict(), ensure_ascii=False),
             "e": decl.enabled, "m": decl.every_minutes, "a": actor}).first()
    return bool(row[0])


def remove(conn: Connection, name: str) -> None:
    """Forget a source and its runs (the data it brought stays in the layer, with its history)."""
    with translate_db_errors():
        done = conn.exec_driver_sql("DELETE FROM harvest_sources WHERE name = %(n)s", {"n": name})
    if not done.rowcount:
        raise _missing(name)


def _missing(name: str) -> NotFoundError:
    return NotFoundError(f"Không có nguồn thu thập '{name}'.",
                         message_en=f"No harvest source '{name}'.")


def _state(row: dict[str, Any]) -> dict[str, Any]:
    """A source's row as shown: its state (``ok``, ``stale``, ``never``, ``disabled``)."""
    since: datetime | None = row["failing_since"]
    if since is not None:
        state = "stale"
    elif row["last_success_at"] is None:
        state = "never"
    else:
        state = "ok"
    if not row["enabled"] and state != "stale":
        state = "disabled"
    out = {k: v for k, v in row.items() if k != "declaration"}
    out["state"] = state
    out["running"] = row["claimed_at"] is not None
    out["title"] = row["declaration"].get("title") or row["name"]
    out["kind"] = row["declaration"]["kind"]
    if since is not None:
        at = since.isoformat(timespec="minutes")
        out["message"] = {"vi": f"Dữ liệu cũ: nguồn lỗi từ {at} — {row['last_error']}",
                          "en": f"Stale: source down since {at} — {row['last_error_en']}"}
    return out


def listing(conn: Connection) -> list[dict[str, Any]]:
    """Every source with its state, by name."""
    with translate_db_errors():
        rows = conn.exec_driver_sql(_SELECT + "ORDER BY name").mappings().all()
    return [_state(dict(r)) for r in rows]


def get(conn: Connection, name: str) -> dict[str, Any]:
    """One source: its declaration, state and its last runs."""
    with translate_db_errors():
        row = conn.exec_driver_sql(_SELECT + "WHERE name = %(n)s", {"n": name}).mappings().first()
    if row is None:
        raise _missing(name)
    out = _state(dict(row))
    out["declaration"] = from_stored(row["declaration"]).as_dict()
    out["runs"] = runs(conn, name, 20)
    return out


def runs(conn: Connection, name: str, limit: int = 50) -> list[dict[str, Any]]:
    """The source's latest runs, newest first."""
    with translate_db_errors():
        rows = conn.exec_driver_sql(
            "SELECT id, started_at, finished_at, status, actor, features, added, changed, removed, "
            "import_job, error, error_en, seconds FROM harvest_runs WHERE source = %(n)s "
            "ORDER BY id DESC LIMIT %(l)s", {"n": name, "l": limit}).mappings().all()
    return [dict(r) for r in rows]


def stale(conn: Connection) -> list[dict[str, Any]]:
    """The failing sources (for the staff pages and the situation view)."""
    return [s for s in listing(conn) if s["state"] == "stale"]
