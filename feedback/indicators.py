"""Indicators of citizen interaction: the share of cases answered within their deadline, per
commune or department, over the cases whose deadline fell in a period (a case still open past
its deadline counts as late; one not yet due counts nowhere)."""

from __future__ import annotations

import calendar
import re
from datetime import date
from typing import Any, Literal

from sqlalchemy import text
from sqlalchemy.engine import Connection

from gis_core.errors import InvalidParameterError

INDICATOR = "feedback_on_time_pct"
_LOCAL_DAY = "(r.answered_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date"


Unit = Literal["commune_code", "department", "service_code"]
_COLUMNS = {"commune_code": "r.commune_code", "department": "r.department",
            "service_code": "r.service_code"}


def on_time(conn: Connection, by: Unit, start: date, end: date,
            today: date) -> list[dict[str, Any]]:
    """Per unit: cases due in [start, end] (and already due on ``today``), those answered on time,
    and their share in percent."""
    column = _COLUMNS[by]
    rows = conn.execute(text(
        f"SELECT {column} AS unit, count(*) AS due, "  # noqa: S608 - a fixed column
        f"count(*) FILTER (WHERE r.answered_at IS NOT NULL AND {_LOCAL_DAY} <= r.due_on) AS on_time "
        "FROM feedback_requests r WHERE r.due_on BETWEEN :start AND :end "
        f"AND (r.due_on < :today OR r.answered_at IS NOT NULL) AND {column} IS NOT NULL "
        "GROUP BY 1 ORDER BY 1"), {"start": start, "end": end, "today": today}).mappings()
    return [{**r, "share_pct": round(100.0 * r["on_time"] / r["due"], 2)} for r in rows]


def satisfaction(conn: Connection, by: Unit, start: date, end: date) -> list[dict[str, Any]]:
    """Per unit, over the cases received in [start, end]: how many were rated, the mean rating
    (1–5) and the share rated 4 or 5 (satisfied), in percent."""
    column = _COLUMNS[by]
    rows = conn.execute(text(
        f"SELECT {column} AS unit, count(*) AS received, count(r.rating) AS rated, "  # noqa: S608
        "round(avg(r.rating), 2)::float AS mean_rating, "
        "round(100.0 * count(*) FILTER (WHERE r.rating >= 4) / nullif(count(r.rating), 0), 2)"
        "::float AS satisfied_pct FROM feedback_requests r "
        "WHERE (r.requested_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date BETWEEN :start AND :end "
        f"AND {column} IS NOT NULL GROUP BY 1 ORDER BY 1"),
        {"start": start, "end": end}).mappings()
    return [dict(r) for r in rows]


_PERIOD = re.compile(r"^(\d{4})(?:-Q([1-4])|-(0[1-9]|1[0-2]))?$")


def period_range(period: str) -> tuple[date, date]:
    """First and last day of a year (2026), quarter (2026-Q3) or month (2026-07)."""
    match = _PERIOD.match(period.strip())
    if not match:
        raise InvalidParameterError(
            f"Kỳ '{period}' không hợp lệ: dùng năm (2026), quý (2026-Q3) hoặc tháng (2026-07).",
            message_en=f"Period '{period}' is invalid: use a year (2026), a quarter (2026-Q3) or a "
            "month (2026-07).", parameter="period")
    year, quarter, month = match.groups()
    y = int(year)
    if quarter:
        first = 3 * int(quarter) - 2
        return date(y, first, 1), date(y, first + 2, calendar.monthrange(y, first + 2)[1])
    if month:
        m = int(month)
        return date(y, m, 1), date(y, m, calendar.monthrange(y, m)[1])
    return date(y, 1, 1), date(y, 12, 31)


def province_share(rows: list[dict[str, Any]]) -> float | None:
    """The province's share from the units' counts."""
    due = sum(r["due"] for r in rows)
    return round(100.0 * sum(r["on_time"] for r in rows) / due, 2) if due else None
