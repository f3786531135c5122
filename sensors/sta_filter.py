"""The OData ``$filter`` and ``$orderby`` of SensorThings, compiled to SQL with parameters.

Supported: ``eq ne gt ge lt le``, ``and or not``, ``add sub mul div mod``, parentheses, string,
number, boolean, null and ISO 8601 datetime literals, property paths (``result``,
``properties/kind``, ``Datastream/id``, ``Datastream/Thing/name``), and the functions
``substringof startswith endswith contains length tolower toupper year month day hour minute
now``. Anything else is a 400 naming the part that could not be read.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from gis_core.errors import InvalidParameterError

TOKEN = re.compile(r"""\s*(?:
    (?P<str>'(?:[^']|'')*')
  | (?P<time>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2}))
  | (?P<num>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_@][A-Za-z0-9_.@]*(?:/[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<punct>[(),])
)""", re.X)
COMPARE = {"eq": "=", "ne": "<>", "gt": ">", "ge": ">=", "lt": "<", "le": "<="}
ARITH = {"add": "+", "sub": "-", "mul": "*", "div": "/", "mod": "%%"}
FUNCS: dict[str, tuple[int, str]] = {
    "substringof": (2, "(strpos({1}, {0}) > 0)"), "contains": (2, "(strpos({0}, {1}) > 0)"),
    "startswith": (2, "starts_with({0}, {1})"), "endswith": (2, "(right({0}, length({1})) = {1})"),
    "length": (1, "length({0})"), "tolower": (1, "lower({0})"), "toupper": (1, "upper({0})"),
    "year": (1, "extract(year FROM {0})"), "month": (1, "extract(month FROM {0})"),
    "day": (1, "extract(day FROM {0})"), "hour": (1, "extract(hour FROM {0} AT TIME ZONE 'UTC')"),
    "minute": (1, "extract(minute FROM {0})"), "now": (0, "now()"),
}

# path segments -> (SQL, its numeric form for JSON properties); supplied by the entity
Resolver = Callable[[list[str]], tuple[str, str | None]]


def _bad(message_vi: str, message_en: str, parameter: str = "$filter") -> InvalidParameterError:
    return InvalidParameterError(message_vi, message_en=message_en, parameter=parameter)


def tokens(text: str) -> list[tuple[str, str]]:
    """The tokens of a filter: (kind, text)."""
    out, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise _bad(f"Không đọc được $filter tại vị trí {pos}: {text[pos:pos + 20]!r}",
                       f"Cannot read $filter at position {pos}: {text[pos:pos + 20]!r}")
        kind = m.lastgroup or "punct"
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


class Compiler:
    """A recursive-descent compiler of one ``$filter``."""

    def __init__(self, text: str, resolve: Resolver):
        self.toks = tokens(text)
        self.i = 0
        self.resolve = resolve
        self.params: list[Any] = []

    def compile(self) -> tuple[str, list[Any]]:
        """The SQL condition and its parameters."""
        sql = self._or()
        if self.i != len(self.toks):
            raise _bad(f"Thừa phần cuối $filter: {self.toks[self.i][1]!r}",
                       f"Unexpected text in $filter: {self.toks[self.i][1]!r}")
        return sql, self.params

    def _peek(self) -> str | None:
        return self.toks[self.i][1] if self.i < len(self.toks) else None

    def _take(self, word: str | None = None) -> tuple[str, str]:
        if self.i >= len(self.toks):
            raise _bad("$filter kết thúc đột ngột", "$filter ends too early")
        tok = self.toks[self.i]
        if word is not None and tok[1] != word:
            raise _bad(f"$filter: cần {word!r}, gặp {tok[1]!r}",
                       f"$filter: expected {word!r}, got {tok[1]!r}")
        self.i += 1
        return tok

    def _or(self) -> str:
        sql = self._and()
        while self._peek() == "or":
            self._take()
            sql = f"({sql} OR {self._and()})"
        return sql

    def _and(self) -> str:
        sql = self._not()
        while self._peek() == "and":
            self._take()
            sql = f"({sql} AND {self._not()})"
        return sql

    def _not(self) -> str:
        if self._peek() == "not":
            self._take()
            return f"(NOT {self._not()})"
        return self._compare()

    def _compare(self) -> str:
        left = self._arith()
        op = self._peek()
        if op in COMPARE:
            self._take()
            right = self._arith()
            lsql = left[1] if left[1] and isinstance(right[2], int | float) else left[0]
            rsql = right[1] if right[1] and isinstance(left[2], int | float) else right[0]
            if rsql == "NULL" and op in ("eq", "ne"):
                return f"({lsql} IS {'NOT ' if op == 'ne' else ''}NULL)"
            return f"({lsql} {COMPARE[op]} {rsql})"
        return left[0]

    def _arith(self) -> tuple[str, str | None, Any]:
        left = self._primary()
        while self._peek() in ARITH:
            op = ARITH[self._take()[1]]
            right = self._primary()
            left = (f"({left[0]} {op} {right[0]})", None, None)
        return left

    def _literal(self, value: Any) -> tuple[str, str | None, Any]:
        self.params.append(value)
        return "%s", None, value

    def _primary(self) -> tuple[str, str | None, Any]:
        kind, text = self._take()
        if text == "(":
            inner = self._or()
            self._take(")")
            return inner, None, None
        if kind == "str":
            return self._literal(text[1:-1].replace("''", "'"))
        if kind == "num":
            return self._literal(float(text) if any(c in text for c in ".eE") else int(text))
        if kind == "time":
            return self._literal(datetime.fromisoformat(text.replace("Z", "+00:00")))
        if text in ("true", "false"):
            return text.upper(), None, None
        if text == "null":
            return "NULL", None, None
        if kind == "name" and self._peek() == "(" and text.lower() in FUNCS:
            arity, template = FUNCS[text.lower()]
            self._take("(")
            args = []
            while self._peek() != ")":
                args.append(self._arith()[0])
                if self._peek() == ",":
                    self._take()
            self._take(")")
            if len(args) != arity:
                raise _bad(f"Hàm {text} cần {arity} tham số", f"Function {text} takes {arity} arguments")
            return template.format(*args), None, None
        if kind == "name":
            sql, numeric = self.resolve(text.split("/"))
            return sql, numeric, None
        raise _bad(f"$filter: không hiểu {text!r}", f"$filter: cannot read {text!r}")


def compile_filter(text: str, resolve: Resolver) -> tuple[str, list[Any]]:
    """``$filter`` as an SQL condition with its parameters."""
    if len(text) > 4000:
        raise _bad("$filter quá dài (tối đa 4000 ký tự)", "$filter is too long (4000 characters at most)")
    return Compiler(text, resolve).compile()


def json_paths(column: str, keys: list[str]) -> tuple[str, str]:
    """A JSON property (keys are identifiers) as text, and as a number where it is one."""
    path = "'{" + ",".join(keys) + "}'"
    return (f"({column} #>> {path})",
            f"(CASE WHEN jsonb_typeof({column} #> {path}) = 'number' "
            f"THEN ({column} #>> {path})::float8 END)")
