"""Source columns to layer fields, and each cell read and checked by ``layers.fields``, with
per-row reasons."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import yaml

from layers.fields import FieldError, fold, from_file
from layers.imports.problems import RowIssue, masked
from layers.spec import LayerSpec


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
                by_key.setdefault(fold(alias), spec.name)
    if layer.title_field:
        by_key.setdefault("ten", layer.title_field)
        by_key.setdefault("name", layer.title_field)
    for column in columns:
        name = by_key.get(fold(column))
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
                values.append(from_file(spec, raw))
            except FieldError as err:
                issues.append(masked(RowIssue(n + first_row, spec.name, _show(raw), err.vi, err.en),
                                     layer, mapping))
                values.append(None)
        out.append(values)
    return out, issues


def _show(value: Any) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= 80 else text[:77] + "…"
