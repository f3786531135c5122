"""Source columns to layer fields, and each cell to the field's type, with per-row reasons."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from typing import Any

import yaml

from layers.imports.problems import RowIssue, masked
from layers.imports.readers import header_key, parse_number
from layers.spec import FieldSpec, LayerSpec

VN_TIME = timezone(timedelta(hours=7))
_TRUE = {"true", "1", "yes", "y", "x", "co", "dung", "t"}
_FALSE = {"false", "0", "no", "n", "khong", "sai", "f", ""}
_DMY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")


def map_columns(layer: LayerSpec, columns: list[str], mapping: dict[str, str] | None = None
                ) -> tuple[dict[str, str], list[str]]:
    """Which source column feeds each field: the mapping (field: column) first, then names and
    titles.

    A header matches a field by its name, its Vietnamese or English title (diacritics and case
    ignored), and a plain ``Tên``/``Name`` header feeds the layer's title field.
    """
    found: dict[str, str] = {}
    fields = {f.name: f for f in layer.fields}
    for name, column in (mapping or {}).items():
        if name not in fields:
            raise ValueError(f"'{name}'")
        if column not in columns:
            raise KeyError(f"'{column}'")
        found[name] = column
    by_key: dict[str, str] = {}
    for spec in layer.fields:
        for alias in (spec.name, spec.title.get("vi"), spec.title.get("en")):
            if alias:
                by_key.setdefault(header_key(alias), spec.name)
    if layer.title_field:
        by_key.setdefault("ten", layer.title_field)
        by_key.setdefault("name", layer.title_field)
    for column in columns:
        name = by_key.get(header_key(column))
        if name and name not in found and column not in found.values():
            found[name] = column
    ignored = [c for c in columns if c not in found.values()]
    return found, ignored


def parse_mapping(text: str) -> dict[str, str]:
    """A mapping document (YAML or JSON) of ``field: source column``; ``ValueError`` otherwise."""
    try:
        data = yaml.safe_load(text)  # JSON is YAML too
    except yaml.YAMLError as err:
        raise ValueError(str(err)) from None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise ValueError("not a mapping of field: source column")
    return {str(k): v for k, v in data.items()}


def clean_text(value: Any) -> str:
    """Text normalised to NFC, trimmed, inner runs of spaces collapsed."""
    return " ".join(unicodedata.normalize("NFC", str(value)).split())


def _domain_code(spec: FieldSpec, text: str) -> str | None:
    if text in spec.domain:
        return text
    wanted = header_key(text)
    for code, title in zip(spec.domain, spec.domain_titles or spec.domain, strict=True):
        if wanted in (header_key(code), header_key(title)):
            return code
    return None


def coerce(spec: FieldSpec, value: Any) -> Any:
    """The value in the field's type; raises ``ValueError(vi, en)`` with the reason."""
    if value is None or (isinstance(value, float) and value != value) or (
            isinstance(value, str) and not value.strip()):
        if spec.required:
            raise ValueError("thiếu giá trị bắt buộc", "required value missing")
        return None
    kind = spec.type
    if kind == "text":
        text = clean_text(value.isoformat() if isinstance(value, date) else value)
        if spec.domain:
            code = _domain_code(spec, text)
            if code is None:
                allowed = ", ".join(spec.domain_titles or spec.domain)
                raise ValueError(f"không thuộc danh mục ({allowed})",
                                 f"not in the allowed values ({', '.join(spec.domain)})")
            return code
        return text
    if kind == "text[]":
        items = value if isinstance(value, list | tuple) else re.split(r"[;,]", str(value))
        return [clean_text(v) for v in items if clean_text(v)]
    if kind in ("integer", "number"):
        number = _number(value)
        if kind == "integer":
            if number != int(number):
                raise ValueError("phải là số nguyên", "must be a whole number")
            number = int(number)
        if spec.minimum is not None and number < spec.minimum:
            raise ValueError(f"nhỏ hơn giá trị tối thiểu {spec.minimum:g}",
                             f"below the minimum {spec.minimum:g}")
        if spec.maximum is not None and number > spec.maximum:
            raise ValueError(f"lớn hơn giá trị tối đa {spec.maximum:g}",
                             f"above the maximum {spec.maximum:g}")
        return number
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        key = header_key(value)
        if key in _TRUE:
            return True
        if key in _FALSE:
            return False
        raise ValueError("không phải có/không", "not a yes/no value")
    if kind == "date":
        return _date(value)
    if kind == "datetime":
        return _datetime(value)
    raise ValueError(f"kiểu {kind} chưa hỗ trợ", f"type {kind} not supported")


def _number(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError("không phải số", "not a number")
    try:
        number = parse_number(value)
    except ValueError:
        raise ValueError("không phải số", "not a number") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError("không phải số", "not a number")
    return number


def _date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    match = _DMY.match(text)
    try:
        if match:
            day, month, year = (int(g) for g in match.groups())
            return date(year, month, day)
        return date.fromisoformat(text[:10])
    except ValueError:
        raise ValueError("ngày không hợp lệ (dùng dd/mm/yyyy hoặc yyyy-mm-dd)",
                         "invalid date (use dd/mm/yyyy or yyyy-mm-dd)") from None


def _datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    else:
        text = str(value).strip().replace("Z", "+00:00")
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            day = _date(text)
            moment = datetime(day.year, day.month, day.day)
    return moment if moment.tzinfo else moment.replace(tzinfo=VN_TIME)


def coerce_rows(layer: LayerSpec, columns: list[str], rows: list[list[Any]],
                mapping: dict[str, str], first_row: int, derived: frozenset[str] = frozenset()
                ) -> tuple[list[list[Any]], list[RowIssue]]:
    """Every row as the layer's field values (declared order); issues for cells that fail.

    Fields in ``derived`` (the commune code, taken from the map) may be empty here; the caller
    fills them. Values in issues are masked as ``problems.masked`` says.
    """
    index = {c: i for i, c in enumerate(columns)}
    plan = [(replace(spec, required=False) if spec.name in derived else spec,
             index.get(mapping.get(spec.name, ""), -1)) for spec in layer.fields]
    out: list[list[Any]] = []
    issues: list[RowIssue] = []
    for n, row in enumerate(rows):
        values = []
        for spec, at in plan:
            raw = row[at] if at >= 0 else None
            try:
                values.append(coerce(spec, raw))
            except ValueError as err:
                vi, en = err.args if len(err.args) == 2 else (str(err), str(err))
                issues.append(masked(RowIssue(n + first_row, spec.name, _show(raw), vi, en),
                                     layer, mapping))
                values.append(None)
        out.append(values)
    return out, issues


def _show(value: Any) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= 80 else text[:77] + "…"
