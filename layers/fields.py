"""What a field means, in one place: its declaration, how a value of each type is read (strictly
from a JSON body, leniently from a file's cell), the checks it must pass (required, domain, range, length)
and how it is described (the table's column type and CHECK constraints, the quality rules' SQL,
JSON Schema).

Editing, imports, the sample generator, quality, the tables and the OGC provider all ask here, so
an attribute added to ``FieldSpec`` is read, checked and described by each of them at once.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, Literal

from sqlalchemy import Boolean, Date, DateTime, Double, Integer, Text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import TypeEngine

FieldType = Literal["text", "integer", "number", "boolean", "date", "datetime", "text[]"]
Sensitivity = Literal["public", "internal", "personal"]

# Columns every layer table carries besides its declared fields.
SYSTEM_COLUMNS = ("id", "geom", "created_at", "updated_at", "source_dataset", "source_key", "import_job")
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_INT_MAX = 2**31 - 1
_JSON_TEXT_MAX = 10_000


@dataclass(frozen=True)
class FieldSpec:
    """One attribute of a layer.

    ``domain`` lists the allowed codes, ``domain_titles`` their Vietnamese labels; ``minimum`` and
    ``maximum`` bound a number, ``max_length`` a text (in characters, NFC); ``sensitivity``
    decides who may see it: public, internal (staff) or personal (citizens' data).
    """

    name: str
    type: FieldType
    title: dict[str, str] = field(default_factory=dict)
    required: bool = False
    sensitivity: Sensitivity = "public"
    domain: tuple[str, ...] = ()
    domain_titles: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    references: str | None = None
    max_length: int | None = None

    def __post_init__(self) -> None:
        if not _ID.match(self.name) or self.name in SYSTEM_COLUMNS:
            raise ValueError(f"invalid field name {self.name!r}")
        if self.domain_titles and len(self.domain_titles) != len(self.domain):
            raise ValueError(f"{self.name}: domain_titles must match domain")
        if self.domain and self.type != "text":
            raise ValueError(f"{self.name}: a domain is for text fields")
        if (self.minimum is not None or self.maximum is not None) and self.type not in (
                "integer", "number"):
            raise ValueError(f"{self.name}: minimum and maximum are for numbers")
        if self.max_length is not None and (self.type != "text" or self.max_length < 1):
            raise ValueError(f"{self.name}: max_length is a positive length of a text field")


class FieldError(ValueError):
    """A value that does not fit its field; ``vi`` and ``en`` say why (without the value)."""

    def __init__(self, vi: str, en: str):
        super().__init__(vi, en)
        self.vi, self.en = vi, en


# --- reading ---------------------------------------------------------------------------------

def _wrong_type(spec: FieldSpec) -> FieldError:
    return FieldError(f"giá trị không hợp kiểu '{spec.type}'",
                      f"the value does not fit type '{spec.type}'")


def parse_json(spec: FieldSpec, value: Any) -> Any:
    """A value from a JSON body, strictly: JSON's own type, NFC text, ISO 8601 dates (kept as
    sent) and date-times with a time zone. ``None`` stays ``None``."""
    if value is None:
        return None
    kind = spec.type
    if kind == "text":
        if not isinstance(value, str) or "\x00" in value or len(value) > _JSON_TEXT_MAX:
            raise _wrong_type(spec)
        return unicodedata.normalize("NFC", value)
    if kind == "text[]":
        if not isinstance(value, list) or not all(isinstance(v, str) and "\x00" not in v
                                                  for v in value):
            raise _wrong_type(spec)
        return [unicodedata.normalize("NFC", v) for v in value]
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int) or abs(value) > _INT_MAX:
            raise _wrong_type(spec)
        return value
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise _wrong_type(spec)
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise _wrong_type(spec)
        return value
    try:
        parsed = (date.fromisoformat(value) if kind == "date"
                  else datetime.fromisoformat(value.replace("Z", "+00:00")))
    except (TypeError, ValueError, AttributeError):
        raise _wrong_type(spec) from None
    if kind == "datetime" and parsed.tzinfo is None:
        raise FieldError("cần múi giờ (ví dụ ...Z)", "needs a time zone (e.g. ...Z)")
    return value


VN_TIME = timezone(timedelta(hours=7))
_TRUE = {"true", "1", "yes", "y", "x", "co", "dung", "t"}
_FALSE = {"false", "0", "no", "n", "khong", "sai", "f", ""}
_DMY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")


def fold(text: Any) -> str:
    """Text reduced for matching: no diacritics, lower case, words joined by underscores."""
    value = unicodedata.normalize("NFD", str(text or "")).replace("đ", "d").replace("Đ", "D")
    value = "".join(ch for ch in value if unicodedata.category(ch) != "Mn").lower()
    return "_".join("".join(ch if ch.isalnum() else " " for ch in value).split())


def clean_text(value: Any) -> str:
    """Text normalised to NFC, trimmed, inner runs of spaces collapsed."""
    return " ".join(unicodedata.normalize("NFC", str(value)).split())


def parse_number(value: Any) -> float:
    """A number from a cell: spaces ignored, a lone comma read as the decimal mark."""
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip().replace(" ", "")
    if "," in text and "." not in text:
        text = text.replace(",", ".")
    return float(text)


def parse_file(spec: FieldSpec, value: Any) -> Any:
    """A value from a file's cell, leniently: blanks are ``None``, text cleaned, a domain code
    found by its code or title (diacritics and case ignored), ``1 234,5`` a number, yes/no words
    (có/không…) booleans, dd/mm/yyyy dates, naive date-times in Vietnam's time."""
    if value is None or (isinstance(value, float) and value != value) or (
            isinstance(value, str) and not value.strip()):
        return None
    kind = spec.type
    if kind == "text":
        text = clean_text(value.isoformat() if isinstance(value, date) else value)
        return _domain_code(spec, text) if spec.domain else text
    if kind == "text[]":
        items = value if isinstance(value, list | tuple) else re.split(r"[;,]", str(value))
        return [clean_text(v) for v in items if clean_text(v)]
    if kind in ("integer", "number"):
        number = _number(value)
        if kind == "integer":
            if number != int(number) or abs(number) > _INT_MAX:
                raise FieldError("phải là số nguyên", "must be a whole number")
            return int(number)
        return number
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        key = fold(value)
        if key in _TRUE or key in _FALSE:
            return key in _TRUE
        raise FieldError("không phải có/không", "not a yes/no value")
    return _date(value) if kind == "date" else _datetime(value)


def _domain_code(spec: FieldSpec, text: str) -> str:
    if text in spec.domain:
        return text
    wanted = fold(text)
    for code, title in zip(spec.domain, spec.domain_titles or spec.domain, strict=True):
        if wanted in (fold(code), fold(title)):
            return code
    return text  # ``check`` says it is not in the domain


def _number(value: Any) -> float:
    if isinstance(value, bool):
        raise FieldError("không phải số", "not a number")
    try:
        number = parse_number(value)
    except ValueError:
        raise FieldError("không phải số", "not a number") from None
    if not math.isfinite(number):
        raise FieldError("không phải số", "not a number")
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
        raise FieldError("ngày không hợp lệ (dùng dd/mm/yyyy hoặc yyyy-mm-dd)",
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


# --- checking --------------------------------------------------------------------------------

def check(spec: FieldSpec, value: Any) -> Any:
    """``value`` (already in the field's type) when it passes the field's checks; else
    ``FieldError``. The same checks are the table's CHECK constraints and quality's rules."""
    if value is None:
        if spec.required:
            raise FieldError("thiếu giá trị bắt buộc", "required value missing")
        return None
    if spec.domain and value not in spec.domain:
        raise FieldError(f"không thuộc danh mục ({', '.join(spec.domain_titles or spec.domain)})",
                         f"not in the allowed values ({', '.join(spec.domain)})")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if spec.minimum is not None and value < spec.minimum:
            raise FieldError(f"nhỏ hơn giá trị tối thiểu {spec.minimum:g}",
                             f"below the minimum {spec.minimum:g}")
        if spec.maximum is not None and value > spec.maximum:
            raise FieldError(f"lớn hơn giá trị tối đa {spec.maximum:g}",
                             f"above the maximum {spec.maximum:g}")
    if spec.max_length is not None and isinstance(value, str) and len(value) > spec.max_length:
        raise FieldError(f"dài quá {spec.max_length} ký tự", f"longer than {spec.max_length} characters")
    return value


def from_json(spec: FieldSpec, value: Any) -> Any:
    """A JSON value read strictly and checked."""
    return check(spec, parse_json(spec, value))


def from_file(spec: FieldSpec, value: Any) -> Any:
    """A file's cell read leniently and checked."""
    return check(spec, parse_file(spec, value))


def check_all(spec: FieldSpec, values: Iterable[Any]) -> None:
    """Every value of a column checked (each distinct value once); ``FieldError`` naming the
    first that fails."""
    seen: set[Any] = set()
    for value in values:
        key = tuple(value) if isinstance(value, list) else value
        if key in seen:
            continue
        seen.add(key)
        try:
            check(spec, value)
        except FieldError as err:
            raise FieldError(f"{err.vi}: {value!r}", f"{err.en}: {value!r}") from None


# --- describing ------------------------------------------------------------------------------

_COLUMN_TYPES: dict[str, TypeEngine] = {
    "text": Text(), "integer": Integer(), "number": Double(), "boolean": Boolean(),
    "date": Date(), "datetime": DateTime(timezone=True), "text[]": ARRAY(Text()),
}
_JSON_TYPES: dict[str, dict[str, Any]] = {
    "text": {"type": "string"}, "integer": {"type": "integer"}, "number": {"type": "number"},
    "boolean": {"type": "boolean"}, "date": {"type": "string", "format": "date"},
    "datetime": {"type": "string", "format": "date-time"},
    "text[]": {"type": "array", "items": {"type": "string"}},
}


def column_type(spec: FieldSpec) -> TypeEngine:
    """The field's SQL column type."""
    return _COLUMN_TYPES[spec.type]


def json_schema(spec: FieldSpec) -> dict[str, Any]:
    """The field as JSON Schema (queryables, OpenAPI): type, format, items and enum."""
    out: dict[str, Any] = {**_JSON_TYPES[spec.type]}
    if spec.domain:
        out["enum"] = list(spec.domain)
    if spec.max_length is not None:
        out["maxLength"] = spec.max_length
    return out


def describe(spec: FieldSpec) -> dict[str, Any]:
    """The field as the platform's layer description lists it: name, type, titles, whether it is
    required, and what it allows (domain codes with their titles, bounds, length)."""
    out: dict[str, Any] = {"name": spec.name, "type": spec.type, "title": spec.title,
                           "required": spec.required}
    if spec.domain:
        out["domain"] = dict(zip(spec.domain, spec.domain_titles or spec.domain, strict=True))
    for key in ("minimum", "maximum", "max_length"):
        if getattr(spec, key) is not None:
            out[key] = getattr(spec, key)
    return out


@dataclass(frozen=True)
class Check:
    """One declared check of a field as SQL: ``condition`` is true (or NULL) when a value passes."""

    kind: str
    title: dict[str, str]
    condition: str


CHECK_KINDS = ("domain", "range", "max_length")


def _literal(value: Any) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return repr(value)


def checks(spec: FieldSpec, column: str) -> tuple[Check, ...]:
    """The field's checks (domain, range, length) on the SQL expression ``column`` (a quoted column, possibly
    qualified): the table's CHECK constraints and quality's correctness rules."""
    out = []
    if spec.domain:
        out.append(Check("domain", {"vi": f"'{spec.name}' thuộc danh mục",
                                    "en": f"'{spec.name}' is in its domain"},
                         f"{column} IN ({', '.join(map(_literal, spec.domain))})"))
    if spec.minimum is not None or spec.maximum is not None:
        bounds = ([f"{column} >= {_literal(spec.minimum)}"] if spec.minimum is not None else []) + (
            [f"{column} <= {_literal(spec.maximum)}"] if spec.maximum is not None else [])
        span = (f"[{spec.minimum if spec.minimum is not None else '…'}, "
                f"{spec.maximum if spec.maximum is not None else '…'}]")
        out.append(Check("range", {"vi": f"'{spec.name}' trong khoảng {span}",
                                   "en": f"'{spec.name}' within {span}"}, " AND ".join(bounds)))
    if spec.max_length is not None:
        out.append(Check("max_length", {"vi": f"'{spec.name}' không dài quá {spec.max_length} ký tự",
                                        "en": f"'{spec.name}' at most {spec.max_length} characters"},
                         f"char_length({column}) <= {spec.max_length}"))
    return tuple(out)


def missing(spec: FieldSpec, column: str) -> str:
    """SQL true when ``column`` holds no value: NULL, blank text or an empty list."""
    if spec.type == "text":
        return f"{column} IS NULL OR btrim({column}) = ''"
    if spec.type == "text[]":
        return f"{column} IS NULL OR cardinality({column}) = 0"
    return f"{column} IS NULL"
