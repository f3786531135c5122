"""Reporting periods: a year (2025), a quarter (2025-Q3) or a month (2025-07)."""

from __future__ import annotations

import re

from gis_core.errors import InvalidParameterError

_PERIOD = re.compile(r"^(\d{4})(?:-Q([1-4])|-(0[1-9]|1[0-2]))?$")


def check_period(period: str, parameter: str = "period") -> str:
    """``period`` if well formed; a 400 naming the forms otherwise."""
    if not isinstance(period, str) or not _PERIOD.match(period.strip()):
        raise InvalidParameterError(
            f"Kỳ '{period}' không hợp lệ: dùng năm (2025), quý (2025-Q3) hoặc tháng (2025-07).",
            message_en=f"Period '{period}' is invalid: use a year (2025), a quarter (2025-Q3) or a "
            "month (2025-07).", parameter=parameter)
    return period.strip()


def check_optional_period(value: str | None) -> str | None:
    """``None`` as is, otherwise ``check_period(value)``: the validator of optional periods."""
    return None if value is None else check_period(value)


def year_of(period: str) -> int:
    """The calendar year a period falls in."""
    return int(check_period(period)[:4])


def previous(period: str) -> str:
    """The period before ``period``, of the same kind."""
    match = _PERIOD.match(check_period(period))
    assert match is not None  # noqa: S101 - checked above
    year, quarter, month = match.groups()
    y = int(year)
    if quarter:
        q = int(quarter) - 1
        return f"{y - 1}-Q4" if q == 0 else f"{y}-Q{q}"
    if month:
        m = int(month) - 1
        return f"{y - 1}-12" if m == 0 else f"{y}-{m:02d}"
    return str(y - 1)
