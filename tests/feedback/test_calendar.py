"""Working days against the holiday table; the table's lunar dates against the astronomical
calendar; a year outside the table refused."""

from datetime import date, timedelta
from math import pi, sin

import pytest

from feedback.calendar import (
    HolidaysUnknownError,
    add_working_days,
    coverage,
    holidays,
    is_working_day,
    table,
    working_days_between,
)

# The Vietnamese lunar calendar (UTC+7), after Hồ Ngọc Đức's published algorithm: months start
# on the day of the new moon (Meeus's series), month 11 holds the winter solstice, a leap month
# is the first without a major solar term.
TZ = 7


def _jd(d: date) -> int:
    return d.toordinal() + 1721425


def _new_moon(k: int) -> float:
    t = k / 1236.85
    t2, t3, dr = t * t, t * t * t, pi / 180
    jd1 = 2415020.75933 + 29.53058868 * k + 0.0001178 * t2 - 0.000000155 * t3
    jd1 += 0.00033 * sin((166.56 + 132.87 * t - 0.009173 * t2) * dr)
    m = 359.2242 + 29.10535608 * k - 0.0000333 * t2 - 0.00000347 * t3
    mpr = 306.0253 + 385.81691806 * k + 0.0107306 * t2 + 0.00001236 * t3
    f = 21.2964 + 390.67050646 * k - 0.0016528 * t2 - 0.00000239 * t3
    c1 = (0.1734 - 0.000393 * t) * sin(m * dr) + 0.0021 * sin(2 * dr * m)
    c1 += -0.4068 * sin(mpr * dr) + 0.0161 * sin(dr * 2 * mpr) - 0.0004 * sin(dr * 3 * mpr)
    c1 += 0.0104 * sin(dr * 2 * f) - 0.0051 * sin(dr * (m + mpr)) - 0.0074 * sin(dr * (m - mpr))
    c1 += 0.0004 * sin(dr * (2 * f + m)) - 0.0004 * sin(dr * (2 * f - m))
    c1 += -0.0006 * sin(dr * (2 * f + mpr)) + 0.0010 * sin(dr * (2 * f - mpr))
    c1 += 0.0005 * sin(dr * (2 * mpr + m))
    delta = (0.001 + 0.000839 * t + 0.0002261 * t2 - 0.00000845 * t3 - 0.000000081 * t * t3
             if t < -11 else -0.000278 + 0.000265 * t + 0.000262 * t2)
    return jd1 + c1 - delta


def _new_moon_day(k: int) -> int:
    return int(_new_moon(k) + 0.5 + TZ / 24)


def _sun_sector(day: int) -> int:
    t = (day - 0.5 - TZ / 24 - 2451545.0) / 36525
    t2, dr = t * t, pi / 180
    m = 357.52910 + 35999.05030 * t - 0.0001559 * t2 - 0.00000048 * t * t2
    l0 = 280.46645 + 36000.76983 * t + 0.0003032 * t2
    dl = ((1.914600 - 0.004817 * t - 0.000014 * t2) * sin(dr * m)
          + (0.019993 - 0.000101 * t) * sin(dr * 2 * m) + 0.000290 * sin(dr * 3 * m))
    lon = (l0 + dl) * dr
    lon -= 2 * pi * int(lon / (2 * pi))
    return int(lon / pi * 6)


def _month11(year: int) -> int:
    k = int((_jd(date(year, 12, 31)) - 2415021) / 29.530588853)
    day = _new_moon_day(k)
    return _new_moon_day(k - 1) if _sun_sector(day) >= 9 else day


def _leap_offset(a11: int) -> int:
    k = int((a11 - 2415021.076998695) / 29.530588853 + 0.5)
    i, arc = 1, _sun_sector(_new_moon_day(k + 1))
    while True:
        last, i = arc, i + 1
        arc = _sun_sector(_new_moon_day(k + i))
        if arc == last or i >= 14:
            return i - 1


def lunar_to_solar(day: int, month: int, year: int) -> date:
    """The solar date of a (non-leap) lunar day."""
    a11, b11 = (_month11(year - 1), _month11(year)) if month < 11 else (_month11(year),
                                                                         _month11(year + 1))
    k = int(0.5 + (a11 - 2415021.076998695) / 29.530588853)
    off = (month - 11) % 12
    if b11 - a11 > 365 and off >= _leap_offset(a11):
        off += 1
    return date.fromordinal(_new_moon_day(k + off) + day - 1 - 1721425)


def test_the_algorithm_knows_past_tet_days():
    # Published dates: Tết 2023 22 Jan, 2024 10 Feb; Giỗ Tổ 2024 18 Apr; 16 Feb 2026 is the 29th
    # of the 12th month (the announcement of Tết 2026).
    assert lunar_to_solar(1, 1, 2023) == date(2023, 1, 22)
    assert lunar_to_solar(1, 1, 2024) == date(2024, 2, 10)
    assert lunar_to_solar(10, 3, 2024) == date(2024, 4, 18)
    assert lunar_to_solar(29, 12, 2025) == date(2026, 2, 16)


@pytest.mark.parametrize("year", sorted(table()))
def test_the_tables_lunar_days_are_the_lunar_calendars(year):
    entry = table()[year]
    assert entry.tet == lunar_to_solar(1, 1, year)
    assert entry.hung_kings == lunar_to_solar(10, 3, year)
    # The Hùng Kings' day is off, or the next working day when it falls on a weekend.
    moved = entry.hung_kings
    while moved.weekday() >= 5:
        moved += timedelta(days=1)
    assert moved in entry.off
    # Five statutory Tết days: those on weekdays around Tết are off, the rest compensated.
    tet_days = [d for d, why in entry.off.items() if "Tết Âm lịch" in why or "mùng" in why]
    assert len(tet_days) == 5
    assert all(abs((d - entry.tet).days) <= 7 for d in tet_days)
    assert all(d.weekday() < 5 for d in entry.off) and all(d.weekday() == 5 for d in entry.work)


def test_2026_and_2027_by_the_announcements():
    assert table()[2026].tet == date(2026, 2, 17) and table()[2027].tet == date(2027, 2, 6)
    assert table()[2027].hung_kings == date(2027, 4, 16)
    assert {date(2026, 2, d) for d in range(16, 21)} <= holidays(2026)
    # The Hùng Kings' day 2026 falls on a Sunday: Monday 27 April is off instead.
    assert date(2026, 4, 27) in holidays(2026)
    assert not is_working_day(date(2026, 4, 30)) and not is_working_day(date(2026, 5, 1))
    # 2 January and 31 August 2026 are off; Saturdays 10 January and 22 August are worked.
    assert not is_working_day(date(2026, 1, 2)) and is_working_day(date(2026, 1, 10))
    assert not is_working_day(date(2026, 8, 31)) and is_working_day(date(2026, 8, 22))
    # 1 May 2027 is a Saturday: Monday 3 May is off.
    assert not is_working_day(date(2027, 5, 3)) and is_working_day(date(2027, 5, 4))


def test_ten_working_days_across_tet():
    # Received Friday 13 February 2026: the Tết week (16-20) and two weekends do not count.
    assert add_working_days(date(2026, 2, 13), 10) == date(2026, 3, 6)
    assert add_working_days(date(2026, 2, 2), 10) == date(2026, 2, 23)
    assert add_working_days(date(2026, 1, 26), 10) == date(2026, 2, 9)
    # Received Thursday 31 December 2025: 1 and 2 January off, Saturday 10 January worked.
    assert add_working_days(date(2025, 12, 31), 5) == date(2026, 1, 9)
    assert add_working_days(date(2025, 12, 31), 6) == date(2026, 1, 10)


def test_across_new_year():
    # 31 Dec 2026 (Thursday); 1 Jan 2027 is a holiday, then a weekend.
    assert add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 4)
    assert working_days_between(date(2026, 12, 30), date(2027, 1, 4)) == 2
    assert working_days_between(date(2027, 1, 4), date(2026, 12, 30)) == -2


def test_a_year_outside_the_table_is_refused_not_guessed():
    with pytest.raises(HolidaysUnknownError) as raised:
        add_working_days(date(2027, 12, 24), 10)
    assert "2028" in raised.value.message and "holidays.yaml" in raised.value.message_en
    with pytest.raises(HolidaysUnknownError):
        holidays(2024)
    # The operations page says so ahead: from October, next year is needed too.
    assert coverage(date(2026, 6, 1)) == {"ok": True, "years": [2025, 2026, 2027], "missing": [],
                                          "not_announced": []}
    assert coverage(date(2026, 12, 7))["not_announced"] == [2027]
    assert coverage(date(2027, 11, 1))["missing"] == [2028]
