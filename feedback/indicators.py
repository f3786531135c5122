"""Indicators of citizen interaction: the share of cases answered within their deadline, per
commune or department, over the cases whose deadline fell in a period (a case still open past
its deadline counts as late; one not yet due counts nowhere)."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from sqlalchemy import text
from sqlalchemy.engine import Connection

INDICATOR = "feedback_on_time_pct"
_LOCAL_DAY = "(r.answered_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date"


def on_time(conn: Connection, by: Literal["commune_code", "department"], start: date, end: date,
            today: date) -> list[dict[str, Any]]:
    """Per unit: cases due in [start, end] (and already due on ``today``), those answered on time,
    and their share in percent."""
    column = {"commune_code": "r.commune_code", "department": "r.department"}[by]
    rows = conn.execute(text(
        f"SELECT {column} AS unit, count(*) AS due, "  # noqa: S608 - a fixed column
        f"count(*) FILTER (WHERE r.answered_at IS NOT NULL AND {_LOCAL_DAY} <= r.due_on) AS on_time "
        "FROM feedback_requests r WHERE r.due_on BETWEEN :start AND :end "
        f"AND (r.due_on < :today OR r.answered_at IS NOT NULL) AND {column} IS NOT NULL "
        "GROUP BY 1 ORDER BY 1"), {"start": start, "end": end, "today": today}).mappings()
    return [{**r, "share_pct": round(100.0 * r["on_time"] / r["due"], 2)} for r in rows]
