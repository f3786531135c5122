"""Reported values and targets: entered per indicator, unit and period, with who entered them.

Values come through the API as JSON rows or as a CSV/XLSX upload with the columns
``indicator, period, unit_code, value[, note]``. A batch is checked whole before anything is
written and written in the caller's transaction (the caller commits): a rejected upload leaves the tables as
they were.
"""

from __future__ import annotations

import csv
import io
import math
import unicodedata
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from gis_core.bounds import duplicates
from gis_core.errors import InvalidParameterError, ValidationError
from scenarios.indicators import REFERENCE_ACTUALS, reference, require_indicator
from scenarios.period import check_period

PROVINCE = "province"
MAX_ROWS = 10_000
COLUMNS = ("indicator", "period", "unit_code", "value")


class ReportedValue(BaseModel):
    """One reported figure."""

    model_config = ConfigDict(extra="forbid")

    indicator: str = Field(max_length=64, examples=["grdp_growth_pct"])
    period: str = Field(max_length=16, examples=["2025"], description="2025, 2025-Q3 or 2025-07")
    unit_code: str = Field(PROVINCE, max_length=20, description="'province' or a commune code",
                           examples=["03388"])
    value: float
    note: str | None = Field(None, max_length=2000)


class TargetValue(BaseModel):
    """One target for an indicator, unit and period, with its legal basis."""

    model_config = ConfigDict(extra="forbid")

    indicator: str = Field(max_length=64, examples=["poor_household_rate"])
    period: str = Field(max_length=16, examples=["2025"])
    unit_code: str = Field(PROVINCE, max_length=20, description="'province' or a commune code")
    value: float
    legal_basis: str = Field(min_length=3, max_length=1000,
                             examples=["Nghị quyết 39/2020/NQ-HĐND, Điều 1"])


def _row_error(index: int, vi: str, en: str) -> ValidationError:
    return ValidationError(f"Dòng {index}: {vi}", message_en=f"Row {index}: {en}", parameter="rows")


def _check_rows(cursor: Any, rows: list[Any], *, reported_only: bool) -> None:
    if not rows:
        raise InvalidParameterError("Không có dòng số liệu nào.", message_en="There are no rows.",
                                    parameter="rows")
    if len(rows) > MAX_ROWS:
        raise InvalidParameterError(f"Tối đa {MAX_ROWS} dòng mỗi lần.",
                                    message_en=f"At most {MAX_ROWS} rows at a time.", parameter="rows")
    keys = [(r.indicator, r.period.strip(), r.unit_code) for r in rows]
    repeated = duplicates(keys)
    if repeated:
        first = repeated[0]
        lines = [n for n, key in enumerate(keys, start=1) if key == first]
        raise _row_error(lines[-1], f"trùng dòng {lines[0]} (cùng chỉ tiêu {first[0]}, kỳ {first[1]}, "
                         f"đơn vị {first[2]}); mỗi bộ ba chỉ nhập một lần.",
                         f"repeats row {lines[0]} (same indicator {first[0]}, period {first[1]}, "
                         f"unit {first[2]}); enter each triple once.")
    cursor.execute("SELECT code FROM communes")
    units = {r[0] for r in cursor.fetchall()} | {PROVINCE}
    for n, row in enumerate(rows, start=1):
        try:
            ind = require_indicator(row.indicator)
            check_period(row.period)
        except InvalidParameterError as err:
            raise _row_error(n, err.message, err.message_en) from None
        except Exception as err:  # noqa: BLE001 - NotFoundError from the catalogue
            raise _row_error(n, getattr(err, "message", str(err)),
                             getattr(err, "message_en", str(err))) from None
        if reported_only and ind.kind != "reported":
            raise _row_error(n, f"chỉ tiêu '{ind.id}' được tính từ dữ liệu lớp, không nhập báo cáo.",
                             f"indicator '{ind.id}' is computed from the layers, not reported.")
        if row.unit_code not in units:
            raise _row_error(n, f"đơn vị '{row.unit_code}' không tồn tại; dùng 'province' hoặc mã xã.",
                             f"unit '{row.unit_code}' does not exist; use 'province' or a commune code.")
        if not math.isfinite(row.value):
            raise _row_error(n, "giá trị phải là số hữu hạn.", "the value must be a finite number.")


def enter_values(cursor: Any, rows: list[ReportedValue], *, actor: str, source: str) -> int:
    """Insert or replace reported values (all or none); the number of rows written."""
    _check_rows(cursor, rows, reported_only=True)
    for row in rows:
        cursor.execute(
            "INSERT INTO reported_values (indicator, period, unit_code, value, entered_by, source, "
            "note) VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (indicator, period, unit_code) "
            "DO UPDATE SET value = EXCLUDED.value, entered_by = EXCLUDED.entered_by, source = "
            "EXCLUDED.source, note = EXCLUDED.note, entered_at = now()",
            (row.indicator, row.period.strip(), row.unit_code, row.value, actor, source, row.note))
    return len(rows)


def set_targets(cursor: Any, rows: list[TargetValue], *, actor: str) -> int:
    """Insert or replace targets (all or none); the number of rows written."""
    _check_rows(cursor, rows, reported_only=False)
    for row in rows:
        cursor.execute(
            "INSERT INTO indicator_targets (indicator, period, unit_code, value, legal_basis, "
            "entered_by) VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (indicator, period, unit_code) "
            "DO UPDATE SET value = EXCLUDED.value, legal_basis = EXCLUDED.legal_basis, entered_by = "
            "EXCLUDED.entered_by, entered_at = now()",
            (row.indicator, row.period.strip(), row.unit_code, row.value, row.legal_basis, actor))
    return len(rows)


def list_values(cursor: Any, indicator: str | None = None, period: str | None = None,
                unit_code: str | None = None) -> list[dict[str, Any]]:
    """Reported values, optionally filtered, newest period first."""
    cursor.execute(
        "SELECT indicator, period, unit_code, value, entered_by, source, note, entered_at "
        "FROM reported_values WHERE (%(i)s IS NULL OR indicator = %(i)s) AND (%(p)s IS NULL OR "
        "period = %(p)s) AND (%(u)s IS NULL OR unit_code = %(u)s) "
        "ORDER BY indicator, period DESC, unit_code LIMIT 10000",
        {"i": indicator, "p": period, "u": unit_code})
    names = ("indicator", "period", "unit_code", "value", "entered_by", "source", "note", "entered_at")
    return [{**dict(zip(names, r, strict=True)), "entered_at": r[7].isoformat()}
            for r in cursor.fetchall()]


def _table_rows(header: list[str], body: list[list[Any]]) -> list[ReportedValue]:
    keys = [unicodedata.normalize("NFC", str(h or "")).strip().lower() for h in header]
    missing = [c for c in COLUMNS if c not in keys]
    if missing:
        raise InvalidParameterError(
            f"Thiếu cột: {', '.join(missing)}. Cần các cột {', '.join(COLUMNS)} (và 'note' tùy chọn).",
            message_en=f"Missing columns: {', '.join(missing)}. The columns {', '.join(COLUMNS)} "
            "(and an optional 'note') are required.", parameter="file")
    rows = []
    for n, cells in enumerate(body, start=2):
        if not any(c not in (None, "") for c in cells):
            continue
        record = {k: cells[i] if i < len(cells) else None for i, k in enumerate(keys)}
        raw = record.get("value")
        try:
            value = float(str(raw).replace(",", ".")) if not isinstance(raw, int | float) else float(raw)
        except ValueError:
            raise ValidationError(f"Dòng {n}: giá trị '{raw}' không phải là số.",
                                  message_en=f"Row {n}: value '{raw}' is not a number.",
                                  parameter="file") from None
        period = record.get("period")
        if isinstance(period, float) and period.is_integer():
            period = int(period)  # a year typed into a spreadsheet cell
        note = record.get("note")
        rows.append(ReportedValue(
            indicator=str(record["indicator"] or "").strip(),
            period=str(period or "").strip(),
            unit_code=str(record["unit_code"] or PROVINCE).strip(), value=value,
            note=unicodedata.normalize("NFC", str(note)) if note not in (None, "") else None))
    return rows


def parse_upload(data: bytes, filename: str) -> list[ReportedValue]:
    """Rows of a CSV (UTF-8, comma or semicolon) or XLSX upload."""
    name = filename.lower()
    if name.endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
        except Exception as err:  # noqa: BLE001 - openpyxl raises many kinds for a bad file
            raise InvalidParameterError("Không đọc được tệp XLSX.", message_en="The XLSX file "
                                        "cannot be read.", parameter="file") from err
        table = [list(r) for r in sheet.iter_rows(values_only=True)]
    elif name.endswith(".csv"):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidParameterError("Tệp CSV phải mã hóa UTF-8.", message_en="The CSV file "
                                        "must be UTF-8.", parameter="file") from None
        dialect = ";" if text.split("\n", 1)[0].count(";") > text.split("\n", 1)[0].count(",") else ","
        reader = csv.reader(io.StringIO(text), delimiter=dialect)
        try:
            table = list(reader)
        except csv.Error as err:
            raise InvalidParameterError(
                f"Dòng {reader.line_num} của tệp CSV không đọc được ({err}): mỗi ô dài tối đa "
                f"{csv.field_size_limit():,} ký tự; hãy rút gọn ghi chú (note).",
                message_en=f"Line {reader.line_num} of the CSV cannot be read ({err}): a cell "
                f"holds at most {csv.field_size_limit():,} characters; shorten the note.",
                parameter="file") from None
    else:
        raise InvalidParameterError("Chỉ nhận tệp .csv hoặc .xlsx.",
                                    message_en="Only .csv or .xlsx files are accepted.",
                                    parameter="file")
    if not table:
        raise InvalidParameterError("Tệp trống.", message_en="The file is empty.", parameter="file")
    return _table_rows(table[0], table[1:])


def seed_reference(cursor: Any) -> int:
    """Enter the province's recent actuals from the reference file (never over entered values)."""
    written = 0
    for actual in reference()["actuals"]:
        if actual.get("status") == "target" or "year" not in actual:
            continue
        for key, indicator in REFERENCE_ACTUALS:
            if key in actual:
                note = f"{actual.get('status', 'actual')}; {actual.get('src', '')}".strip("; ")
                cursor.execute(
                    "INSERT INTO reported_values (indicator, period, unit_code, value, entered_by, "
                    "source, note) VALUES (%s, %s, 'province', %s, 'reference', 'reference', %s) "
                    "ON CONFLICT (indicator, period, unit_code) DO NOTHING",
                    (indicator, str(actual["year"]), float(actual[key]), note))
                written += cursor.rowcount
    return written
