"""Working days in Vietnam: weekends and public holidays (Labour Code 2019, Art. 112).

Holidays: New Year (1 Jan), Tết (the days off the Government announces each year), the Hùng
Kings' day (10th of the 3rd lunar month), 30 April, 1 May and National Day (2 September and the
day before or after). A solar holiday on a weekend moves to the next working day. Tết and the
Hùng Kings' day follow the lunar calendar and are listed per year.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

# Tết days off (weekdays) and the Hùng Kings' day per year (2027: the expected plan; add each
# year's days when the Government announces them).
_LUNAR: dict[int, tuple[date, ...]] = {
    2025: (*(date(2025, 1, d) for d in range(27, 32)), date(2025, 4, 7)),
    2026: (*(date(2026, 2, d) for d in range(16, 21)), date(2026, 4, 27)),
    2027: (*(date(2027, 2, d) for d in (4, 5, 8, 9, 10)), date(2027, 4, 16)),
}
# National Day's second day, as announced (1 or 3 September).
_NATIONAL_SECOND = {2025: 1, 2026: 1, 2027: 3}


def _moved(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


@cache
def holidays(year: int) -> frozenset[date]:
    """The working days that are public holidays in ``year``."""
    solar = [date(year, 1, 1), date(year, 4, 30), date(year, 5, 1), date(year, 9, 2),
             date(year, 9, _NATIONAL_SECOND.get(year, 1))]
    days: set[date] = set(_LUNAR.get(year, ()))
    for day in sorted(solar):
        moved = _moved(day)
        while moved in days:
            moved = _moved(moved + timedelta(days=1))
        days.add(moved)
    return frozenset(days)


def is_working_day(day: date) -> bool:
    """Monday to Friday and not a public holiday."""
    return day.weekday() < 5 and day not in holidays(day.year)


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
