"""The finishing step: a generated table as the text PostgreSQL's COPY reads.

Geometries go to EPSG:4326 EWKB, derived lengths and areas are computed, every value is checked
as ``layers.fields`` says (required, domain, range), and written in COPY text format according
to its field type.
"""

from __future__ import annotations

import io
import math
import re
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import shapely

from layers.fields import FieldError, check_all
from layers.samples.geometry import areas_m2, as_multi, geodesic_lengths_km, to_lonlat
from layers.samples.table import Table
from layers.tables import TABLES

_SRID = 4326
_SPECIAL = re.compile(r"[\\\t\n\r]")
_NULL = "\\N"


def _escape(value: str) -> str:
    return (value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
            .replace("\r", "\\r"))


def _array_literal(items: Sequence[Any]) -> str:
    quoted = ('"' + str(s).replace("\\", "\\\\").replace('"', '\\"') + '"' for s in items)
    return "{" + ",".join(quoted) + "}"


def _number(value: Any) -> str:
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"non-finite number {value!r}")
    return repr(value)


def _moment(value: Any) -> str:
    return value if isinstance(value, str) else value.isoformat(sep=" ")


_FORMATTERS: dict[str, Callable[[Any], str]] = {
    "text": str,
    "integer": lambda v: str(int(v)),
    "number": _number,
    "boolean": lambda v: "t" if v else "f",
    "date": lambda v: v.isoformat(),
    "datetime": _moment,
    "text[]": _array_literal,
}


def _column_text(values: list[Any], kind: str) -> list[str]:
    """One column in COPY text format."""
    fmt = _FORMATTERS[kind]
    out = [_NULL if v is None else fmt(v) for v in values]
    if kind in ("text", "text[]") and _SPECIAL.search("".join(out)):
        out = [v if v is _NULL else _escape(v) for v in out]
    return out


def finish_table(table: Table) -> tuple[list[str], int, io.StringIO]:
    """Geometries to EPSG:4326 EWKB, derived lengths and areas, checks, COPY text (NFC)."""
    geoms = np.concatenate(table.geoms) if table.geoms else np.empty(0, dtype=object)
    if table.plane and len(geoms):
        geoms = to_lonlat(geoms)
        if table.layer.geometry == "Point":
            geoms = shapely.transform(geoms, lambda c: np.round(c, 7))
        else:
            geoms = shapely.set_precision(geoms, 1e-7)
    if table.layer.geometry != "Point":
        geoms = np.array([as_multi(g) for g in geoms], dtype=object)
    type_id = {"Point": 0, "MultiLineString": 5, "MultiPolygon": 6}[table.layer.geometry]
    if len(geoms) and (shapely.is_empty(geoms).any()
                       or (shapely.get_type_id(geoms) != type_id).any()):
        raise ValueError(f"{table.layer.id}: empty or mistyped geometry")
    cols = table.cols
    if "length_km" in cols and len(geoms):
        cols["length_km"] = np.round(geodesic_lengths_km(geoms), 3).tolist()
    if table.layer.id == "land_parcels" and len(geoms):
        cols["area_m2"] = np.round(areas_m2(geoms), 1).tolist()
    kinds = {f.name: f.type for f in table.layer.fields}
    kinds.update(created_at="datetime", updated_at="datetime")
    for spec in table.layer.fields:
        try:
            check_all(spec, cols[spec.name])
        except FieldError as err:
            raise ValueError(f"{table.layer.id}.{spec.name}: {err.en}") from None
    names = [name for name in cols if name in TABLES[table.layer.id].c]
    columns = [
        shapely.to_wkb(shapely.set_srid(geoms, _SRID), hex=True, include_srid=True).tolist()
        if name == "geom" else _column_text(cols[name], kinds[name])
        for name in names
    ]
    text = "".join("\t".join(row) + "\n" for row in zip(*columns, strict=True))
    return names, len(geoms), io.StringIO(unicodedata.normalize("NFC", text))
