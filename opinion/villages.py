"""The villages a deployment declares for the gazetteer, from a CSV file (all rows or none).

The project ships no list of villages: no open source of the province's village names with
positions was available. A deployment fills the table from its own list (the communes' or the
statistics office's) with ``ioc opinion villages FILE.csv`` or ``POST /api/v1/opinion/villages``.
The format (UTF-8, a header row)::

    name,commune_code,lon,lat,variants,source
    Bản Nà Khum,03478,103.2345,22.3456,Na Khum|Nà Khùm,UBND xã Sìn Hồ 2026

``name`` (with or without "Bản"), ``commune_code`` (one of the 38 communes), ``lon``/``lat`` in
WGS 84 (within 1 km of the commune), ``variants`` other spellings separated by ``|``, ``source``
where the row comes from (kept with it). An import replaces the whole list.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from gis_core.errors import ValidationError
from governance import audit
from opinion.text import fold, nfc

COLUMNS = ("name", "commune_code", "lon", "lat", "variants", "source")
MAX_BYTES = 2 * 1024 * 1024
NEAR_M = 1000  # how far outside its commune's boundary a village's point may be (generalised)
SHOWN = 10  # problems listed in an error


@dataclass(frozen=True)
class Row:
    """One village as read from the file."""

    line: int
    name: str
    commune_code: str
    lon: float
    lat: float
    variants: tuple[str, ...]
    source: str


def _refuse(problems: list[tuple[str, str]]) -> ValidationError:
    """One error listing the file's first problems, in Vietnamese and English."""
    more = len(problems) - SHOWN
    tail = f"; … và {more} lỗi khác" if more > 0 else ""
    tail_en = f"; … and {more} more" if more > 0 else ""
    return ValidationError(
        "Tệp làng, bản không được nhập (không ghi dòng nào): "
        + "; ".join(p[0] for p in problems[:SHOWN]) + tail + ".",
        message_en="The village file was not imported (no row written): "
        + "; ".join(p[1] for p in problems[:SHOWN]) + tail_en + ".", parameter="file")


def read(data: bytes) -> list[Row]:
    """The rows of a village CSV; every problem of the file at once (400) when there is any."""
    if len(data) > MAX_BYTES:
        mb = MAX_BYTES // 1024 // 1024
        raise _refuse([(f"tệp quá {mb} MB", f"the file is over {mb} MB")])
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _refuse([("tệp không phải UTF-8", "the file is not UTF-8")]) from None
    reader = csv.DictReader(io.StringIO(content))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise _refuse([(f"thiếu cột {', '.join(missing)}",
                        f"missing columns {', '.join(missing)}")])
    rows: list[Row] = []
    problems: list[tuple[str, str]] = []
    seen: dict[tuple[str, str], int] = {}
    for line, raw in enumerate(reader, start=2):
        cell = {k: nfc(raw.get(k) or "") for k in COLUMNS}
        bad = [c for c in ("name", "commune_code", "source") if not cell[c]]
        try:
            lon, lat = float(cell["lon"]), float(cell["lat"])
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                raise ValueError
        except ValueError:
            bad.append("lon/lat")
            lon = lat = 0.0
        if bad:
            problems.append((f"dòng {line}: thiếu hoặc sai {', '.join(bad)}",
                             f"line {line}: missing or wrong {', '.join(bad)}"))
            continue
        key = (cell["commune_code"], fold(cell["name"]))
        if key in seen:
            problems.append((f"dòng {line}: trùng tên với dòng {seen[key]} trong cùng xã",
                             f"line {line}: same name as line {seen[key]} in the same commune"))
            continue
        seen[key] = line
        rows.append(Row(line, cell["name"], cell["commune_code"], lon, lat,
                        tuple(v.strip() for v in cell["variants"].split("|") if v.strip()),
                        cell["source"]))
    if not rows and not problems:
        problems.append(("tệp không có dòng nào", "the file has no rows"))
    if problems:
        raise _refuse(problems)
    return rows


def replace(conn: Connection, rows: list[Row], actor: str) -> dict[str, Any]:
    """Replace the declared villages by ``rows`` (inside the caller's transaction), each checked
    against its commune; all or nothing. What was imported."""
    communes = {r[0] for r in conn.execute(text("SELECT code FROM communes"))}
    problems = [(f"dòng {r.line}: không có xã mã '{r.commune_code}'",
                 f"line {r.line}: no commune with code '{r.commune_code}'") for r in rows
                if r.commune_code not in communes]
    if problems:
        raise _refuse(problems)
    far = conn.execute(text(
        "SELECT n.line, n.code FROM unnest(CAST(:lines AS int[]), CAST(:codes AS text[]), "
        "CAST(:lons AS float8[]), CAST(:lats AS float8[])) AS n(line, code, lon, lat) "
        "JOIN communes c ON c.code = n.code WHERE NOT ST_DWithin(c.geom::geography, "
        "ST_SetSRID(ST_MakePoint(n.lon, n.lat), 4326)::geography, :near) ORDER BY n.line"),
        {"lines": [r.line for r in rows], "codes": [r.commune_code for r in rows],
         "lons": [r.lon for r in rows], "lats": [r.lat for r in rows], "near": NEAR_M}).all()
    if far:
        raise _refuse([(f"dòng {line}: vị trí nằm ngoài xã {code} quá {NEAR_M} m",
                        f"line {line}: position over {NEAR_M} m outside commune {code}")
                       for line, code in far])
    conn.execute(text("DELETE FROM opinion_villages"))
    conn.execute(text(
        "INSERT INTO opinion_villages (name, commune_code, variants, source, geom, imported_by) "
        "SELECT n.name, n.code, CASE WHEN n.variants = '' THEN '{}'::text[] "
        "ELSE string_to_array(n.variants, '|') END, n.source, "
        "ST_SetSRID(ST_MakePoint(n.lon, n.lat), 4326), :by "
        "FROM unnest(CAST(:names AS text[]), CAST(:codes AS text[]), CAST(:variants AS text[]), "
        "CAST(:sources AS text[]), CAST(:lons AS float8[]), CAST(:lats AS float8[])) "
        "AS n(name, code, variants, source, lon, lat)"),
        {"names": [r.name for r in rows], "codes": [r.commune_code for r in rows],
         "variants": ["|".join(r.variants) for r in rows], "sources": [r.source for r in rows],
         "lons": [r.lon for r in rows], "lats": [r.lat for r in rows], "by": actor})
    communes_named = len({r.commune_code for r in rows})
    audit.record(conn, "opinion.villages_imported", actor=actor, target="opinion_villages",
                 details={"villages": len(rows), "communes": communes_named})
    return {"villages": len(rows), "communes": communes_named}


def listing(conn: Connection, commune: str | None = None) -> list[dict[str, Any]]:
    """The declared villages with their commune, position, variants and source."""
    rows = conn.execute(text(
        "SELECT v.id, v.name, v.commune_code, c.name AS commune_name, ST_X(v.geom) AS lon, "
        "ST_Y(v.geom) AS lat, v.variants, v.source, v.imported_at, v.imported_by "
        "FROM opinion_villages v LEFT JOIN communes c ON c.code = v.commune_code "
        "WHERE CAST(:c AS text) IS NULL OR v.commune_code = :c ORDER BY v.commune_code, v.name"),
        {"c": commune}).mappings()
    return [dict(r) for r in rows]
