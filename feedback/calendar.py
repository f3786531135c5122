"""Working days of state bodies in Vietnam: weekends, public holidays and make-up days.

The days come from ``holidays.yaml`` beside this module (data, with its legal basis: Labour
Code 2019, Art. 112, and each year's announcement by the Government). A weekday is a working
day unless the table lists it as a day off; a Saturday the table lists as a make-up day is one.
A year the table does not list cannot be counted: ``HolidaysUnknownError`` rather than a
deadline silently wrong by the days of Tết. A year listed as not yet announced counts with the
Labour Code's own reading of its days; ``coverage`` says which years those are, for the
operations page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from gis_core.errors import IocError

TABLE = Path(__file__).with_name("holidays.yaml")


class HolidaysUnknownError(IocError):
    """A working-day count reached a year whose holidays are not in the table."""

    status = 503
    code = "holidays-unknown"
    title = "Thiếu lịch nghỉ lễ"
    safe = True


@dataclass(frozen=True)
class Year:
    """One year of the table: its days off, its make-up Saturdays, and where they come from."""

    year: int
    announced: bool
    tet: date
    hung_kings: date
    off: dict[date, str]
    work: dict[date, str]
    sources: tuple[str, ...]


def _days(rows: list[dict[str, Any]] | None) -> dict[date, str]:
    return {row["day"]: row["why"] for row in rows or ()}


@cache
def table() -> dict[int, Year]:
    """Every year of ``holidays.yaml``."""
    raw = yaml.safe_load(TABLE.read_text(encoding="utf-8"))
    return {int(y): Year(int(y), bool(v["announced"]), v["tet"], v["hung_kings"], _days(v["days_off"]),
                         _days(v.get("make_up")), tuple(v.get("sources", ())))
            for y, v in raw.items()}


def year(number: int) -> Year:
    """The table's entry for ``number``; ``HolidaysUnknownError`` when there is none."""
    found = table().get(number)
    if found is None:
        years = sorted(table())
        raise HolidaysUnknownError(
            f"Chưa có lịch nghỉ lễ năm {number} (bảng có {years[0]}–{years[-1]}): không tính được "
            f"hạn theo ngày làm việc. Bổ sung năm {number} vào feedback/holidays.yaml theo thông "
            "báo của Chính phủ.",
            message_en=f"The holidays of {number} are not in the table ({years[0]}–{years[-1]}): "
            f"working-day deadlines cannot be counted. Add {number} to feedback/holidays.yaml "
            "from the Government's announcement.")
    return found


def holidays(number: int) -> frozenset[date]:
    """The weekdays of ``number`` that are days off."""
    return frozenset(year(number).off)


def is_working_day(day: date) -> bool:
    """Monday to Friday and not a day off, or a make-up Saturday."""
    entry = year(day.year)
    if day in entry.work:
        return True
    return day.weekday() < 5 and day not in entry.off


def add_working_days(start: date, days: int) -> date:
    """The date ``days`` working days after ``start`` (the day of receipt does not count)."""
    day = start
    while days > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            days -= 1
    return day


def working_days_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end`` (negative when ``end`` is earlier)."""
    sign, (a, b) = (1, (start, end)) if end >= start else (-1, (end, start))
    count, day = 0, a
    while day < b:
        day += timedelta(days=1)
        count += is_working_day(day)
    return sign * count


def coverage(on: date) -> dict[str, Any]:
    """Whether the years deadlines reach on ``on`` are in the table and announced: this year,
    and from October on next year too (a 30-working-day deadline reaches into it)."""
    needed = [on.year, on.year + 1] if on.month >= 10 else [on.year]
    missing = [y for y in needed if y not in table()]
    pending = [y for y in needed if y in table() and not table()[y].announced]
    return {"ok": not missing and not pending, "years": sorted(table()), "missing": missing,
            "not_announced": pending}
