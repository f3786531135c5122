from datetime import date

from feedback.calendar import add_working_days, holidays, is_working_day, working_days_between


def test_tet_2026_and_hung_kings_day_are_days_off():
    assert {date(2026, 2, d) for d in range(16, 21)} <= holidays(2026)
    # The Hùng Kings' day 2026 falls on a Sunday: Monday 27 April is off instead.
    assert date(2026, 4, 27) in holidays(2026)
    assert not is_working_day(date(2026, 4, 30)) and not is_working_day(date(2026, 5, 1))


def test_ten_working_days_across_tet():
    # Received Friday 13 February 2026: the Tết week (16-20) and two weekends do not count.
    assert add_working_days(date(2026, 2, 13), 10) == date(2026, 3, 6)
    # Received Monday 2 February: nine working days before Tết, the tenth after it.
    assert add_working_days(date(2026, 2, 2), 10) == date(2026, 2, 23)
    assert add_working_days(date(2026, 1, 26), 10) == date(2026, 2, 9)


def test_across_new_year():
    # 31 Dec 2026 (Thursday); 1 Jan 2027 is a holiday, then a weekend.
    assert add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 4)
    assert working_days_between(date(2026, 12, 30), date(2027, 1, 4)) == 2
    assert working_days_between(date(2027, 1, 4), date(2026, 12, 30)) == -2


def test_a_solar_holiday_on_a_weekend_moves_to_monday():
    # 2 September 2028 is a Saturday; 1 September (Friday) is the second day.
    assert date(2028, 9, 4) in holidays(2028)
