"""``run_import``: read a file, validate every row, then write it all in one transaction or nothing.

Rows are staged with ``COPY`` and merged by their source key: rows new to the dataset are added,
rows whose values or geometry differ are changed, rows gone from the file are removed, and the
rest are left untouched, so importing the same file twice changes nothing.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from psycopg2 import sql
from pyproj import CRS
from sqlalchemy.engine import Connection, Engine

from gis_core.crs import VN2000_TM3_ZONES, to_wgs84
from gis_core.db import translate_db_errors
from layers.fields import clean_text
from layers.imports import readers
from layers.imports.problems import (
    CONTENT_KEY,
    GEOMETRY,
    FileRejected,
    ImportRejected,
    ImportReport,
    RowIssue,
    masked,
)
from layers.imports.rows import coerce_rows, map_columns
from layers.registry import require_layer
from layers.spec import LayerSpec

Progress = Callable[[str, int, int], None]
OUTSIDE = "ngoài tỉnh / outside"
COMMUNE_CODE = "communes.code"
_MULTI = {"MultiPolygon": ("Polygon", shapely.MultiPolygon),
          "MultiLineString": ("LineString", shapely.MultiLineString)}


@dataclass
class ImportOptions:
    """How to read and where to put a file."""

    crs: str | None = None
    mapping: dict[str, str] | None = None
    dataset: str | None = None
    key: str | None = None
    source_layer: str | None = None
    dry_run: bool = False
    actor: str = "cli"
    max_features: int = 500_000
    preview: int = 0  # a dry run's map: at most this many changed features in the report


def parse_source_crs(text: str) -> int:
    """``EPSG:9205`` (or a bare code) as an EPSG code PROJ knows; refuses anything else."""
    value = text.strip().upper().removeprefix("EPSG:")
    try:
        code = int(value)
        CRS.from_epsg(code)
    except Exception:  # noqa: BLE001 - pyproj raises CRSError, int() ValueError
        raise FileRejected(f"Hệ tọa độ '{text}' không hợp lệ; dùng dạng EPSG:9205.",
                           f"CRS '{text}' is invalid; write it as EPSG:9205.") from None
    return code


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(2**20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class Checked:
    """A file read and checked against the layer: its rows, ready to merge under their keys."""

    report: ImportReport
    values: list[list[Any]]
    geoms: np.ndarray
    keys: list[str]


def new_report(layer: LayerSpec, path: Path, options: ImportOptions, file_name: str | None = None
               ) -> ImportReport:
    """An empty report for importing ``path`` (named ``file_name``) into ``layer``."""
    name = file_name or path.name
    return ImportReport(layer=layer.id, dataset=options.dataset or Path(name).stem,
                        file_name=name, file_sha256=sha256_of(path),
                        file_size=path.stat().st_size, actor=options.actor)


def run_import(engine: Engine, layer_id: str, path: Path, options: ImportOptions, *,
               file_name: str | None = None, progress: Progress | None = None) -> ImportReport:
    """Import ``path`` into ``layer_id``; raises ``ImportRejected`` (with the report) on bad rows."""
    layer = require_layer(layer_id)
    report = new_report(layer, path, options, file_name)
    tell = progress or (lambda *_: None)
    try:
        with translate_db_errors(), engine.connect() as conn:
            checked = check_file(conn, layer, path, options, report, tell)
    except ImportRejected:
        record_job(engine, report)
        raise
    _store(engine, layer, checked, options, tell)
    return report


def check_file(conn: Connection, layer: LayerSpec, path: Path, options: ImportOptions,
               report: ImportReport, tell: Progress | None = None) -> Checked:
    """Read ``path`` and check every row against the layer and the current data (the province,
    commune codes); raises ``FileRejected``, or ``ImportRejected`` with the report (not recorded).
    """
    tell = tell or (lambda *_: None)
    with readers.opened(path, source_layer=options.source_layer,
                        max_features=options.max_features, geometry_type=layer.geometry) as source:
        tell("đọc / read", len(source.rows), len(source.rows))
        report.features = len(source.rows)
        report.encoding = source.encoding
        srid = _source_srid(source, options, report)
        report.warnings += [f"{vi} | {en}" for vi, en in source.crs_warnings if not options.crs]
        try:
            mapping, report.ignored_columns = map_columns(layer, source.columns, options.mapping)
        except (KeyError, ValueError) as err:
            raise FileRejected(f"Tệp ánh xạ nhắc tới {err.args[0]} không có trong tệp hoặc lớp.",
                               f"The mapping names {err.args[0]}, absent from the file or layer."
                               ) from None
        report.mapping = mapping
        missing = [f.name for f in layer.fields if f.required and f.name not in mapping
                   and f.references != COMMUNE_CODE]
        if missing:
            raise FileRejected(
                f"Không có cột nào cho trường bắt buộc: {', '.join(missing)}. Đổi tên cột hoặc dùng "
                "tệp ánh xạ (--mapping).",
                f"No column feeds the required fields: {', '.join(missing)}. Rename the columns or "
                "use a mapping file (--mapping).")
        first = 2 if source.coordinates else 1
        derived = frozenset(f.name for f in layer.fields if f.references == COMMUNE_CODE)
        values, issues = coerce_rows(layer, source.columns, source.rows, mapping, first, derived)
        with translate_db_errors():
            province = _province(conn)
            geoms, geom_issues, repaired = _geometries(layer, source, srid, first, province)
            geom_issues += _references(conn, layer, mapping, values, geoms, first, geom_issues)
        report.repaired = repaired
        keys, key_issues = _keys(source, options.key or mapping.get(layer.key_field or ""),
                                 values, geoms, first)
        issues += geom_issues + [masked(i, layer, mapping) for i in key_issues]
    tell("kiểm tra / check", len(values), len(values))
    hint = None
    outside = [i for i in geom_issues if i.value == OUTSIDE]
    if province is not None and len(outside) > 0.5 * max(report.features, 1):
        hint = _crs_hint(source.geometry, srid, province)
        report.warnings.append(hint[0] + " | " + hint[1])
    if issues:
        report.errors = sorted(issues, key=lambda i: (i.row, i.field))
        report.status = "rejected"
        raise ImportRejected(report, hint)
    return Checked(report, values, geoms, keys)


def _source_srid(source: readers.Source, options: ImportOptions, report: ImportReport) -> int:
    if options.crs:
        srid = parse_source_crs(options.crs)
        report.crs_note = f"EPSG:{srid} (theo tham số / as given)"
    elif source.srid:
        srid, report.crs_note = source.srid, source.crs_note
    elif source.coordinates.keys() & {"lon", "lat"}:
        srid, report.crs_note = 4326, "WGS 84 (cột kinh độ/vĩ độ / lon-lat columns)"
    elif "wkt" in source.coordinates and _lonlat_range(source.geometry):
        srid, report.crs_note = 4326, "WGS 84 (tọa độ WKT trong phạm vi độ / WKT in degrees)"
    else:
        why = next((n.split(":", 1)[1] for n in source.notes if n.startswith("crs-unrecognised")),
                   "tệp không ghi hệ tọa độ")
        raise FileRejected(
            f"Không xác định được hệ tọa độ của tệp ({why}). Hãy chỉ rõ, ví dụ --crs EPSG:9205 "
            "(VN-2000 TM-3 kinh tuyến trục 103°, Lai Châu) hoặc EPSG:4326 (WGS 84).",
            f"Cannot tell the file's CRS ({why}). Name it, e.g. --crs EPSG:9205 (VN-2000 TM-3 "
            "103°, Lai Châu) or EPSG:4326 (WGS 84).")
    report.source_crs = f"EPSG:{srid}"
    return srid


def _lonlat_range(geoms: np.ndarray | None) -> bool:
    valid = [g for g in geoms if g is not None] if geoms is not None else []
    if not valid:
        return False
    x0, y0, x1, y1 = shapely.total_bounds(np.array(valid, dtype=object))
    return -180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90


def _to_wgs84(geoms: np.ndarray, srid: int) -> np.ndarray:
    geoms = shapely.force_2d(geoms)
    if srid == 4326:
        return geoms
    transformer = to_wgs84(srid)

    def move(xy: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geoms, move)


def _geometries(layer: LayerSpec, source: readers.Source, srid: int, first: int, province: Any
                ) -> tuple[np.ndarray, list[RowIssue], list[RowIssue]]:
    """Geometries in WGS 84, of the layer's type and inside the province; invalid ones repaired
    when that is safe."""
    raw = source.geometry
    geoms = np.array(raw if raw is not None else [], dtype=object)
    issues: list[RowIssue] = []
    repaired: list[RowIssue] = []
    present = np.array([g is not None and not shapely.is_empty(g) for g in geoms], dtype=bool)
    out = np.empty(len(geoms), dtype=object)
    if present.any():
        out[present] = _to_wgs84(geoms[present], srid)
    for n in np.flatnonzero(~present):
        why = source.unreadable.get(int(n), ("thiếu hình học hoặc tọa độ",
                                             "missing geometry or coordinates"))
        issues.append(RowIssue(int(n) + first, GEOMETRY, "", *why))
    for n in np.flatnonzero(present):
        geom = out[n]
        fixed, why = _conform(layer.geometry, geom)
        if fixed is None:
            issues.append(RowIssue(int(n) + first, "geometry", geom.geom_type, *why))
        elif why:
            repaired.append(RowIssue(int(n) + first, "geometry", geom.geom_type, *why))
        out[n] = fixed
    if province is not None:
        shapely.prepare(province)
        for n in np.flatnonzero(present):
            if out[n] is not None and not province.intersects(out[n]):
                x, y = shapely.get_coordinates(out[n])[0]
                issues.append(RowIssue(int(n) + first, "geometry", OUTSIDE,
                                       f"nằm ngoài tỉnh Lai Châu ({x:.5f}, {y:.5f})",
                                       f"outside Lai Châu province ({x:.5f}, {y:.5f})"))
    return out, issues, repaired


def _conform(target: str, geom: Any) -> tuple[Any, tuple[str, str] | tuple[()]]:
    """The geometry as ``target`` type, or None and the reason it cannot be."""
    if not np.isfinite(shapely.get_coordinates(geom)).all():
        return None, ("tọa độ không hữu hạn (sai hệ tọa độ?)", "non-finite coordinates (wrong CRS?)")
    note: tuple[str, str] | tuple[()] = ()
    if not shapely.is_valid(geom):
        fixed = shapely.make_valid(geom)
        if target in _MULTI:
            part = 2 if target == "MultiPolygon" else 1
            fixed = shapely.get_parts(fixed)
            fixed = [g for g in fixed if shapely.get_dimensions(g) == part]
            fixed = shapely.union_all(fixed) if fixed else None
        safe = fixed is not None and not shapely.is_empty(fixed) and (
            target != "MultiPolygon" or abs(fixed.area - abs(shapely.area(geom))) <= 0.01 * fixed.area)
        if not safe:
            return None, ("hình học không hợp lệ, không sửa tự động an toàn được ("
                          + shapely.is_valid_reason(geom) + ")",
                          "invalid geometry that cannot be repaired safely ("
                          + shapely.is_valid_reason(geom) + ")")
        note = ("hình học không hợp lệ đã được sửa (" + shapely.is_valid_reason(geom) + ")",
                "invalid geometry repaired (" + shapely.is_valid_reason(geom) + ")")
        geom = fixed
    kind = geom.geom_type
    if kind == target:
        return geom, note
    if target == "Point" and kind == "MultiPoint" and len(geom.geoms) == 1:
        return geom.geoms[0], note
    if target in _MULTI and kind == _MULTI[target][0]:
        return _MULTI[target][1]([geom]), note
    return None, (f"sai loại hình học: {kind}, lớp cần {target}",
                  f"wrong geometry type: {kind}, the layer needs {target}")


def _references(conn: Connection, layer: LayerSpec, mapping: dict[str, str],
                values: list[list[Any]], geoms: np.ndarray, first: int,
                geom_issues: list[RowIssue]) -> list[RowIssue]:
    """Check codes that point to another layer; a missing commune code (no column, or an empty
    cell) is taken from the commune the feature falls in."""
    issues: list[RowIssue] = []
    placed = {i.row for i in geom_issues}
    for at, spec in enumerate(layer.fields):
        if not spec.references:
            continue
        table, column = spec.references.split(".")
        fill = spec.references == COMMUNE_CODE
        shape = sql.SQL(", ST_AsBinary(geom)") if fill else sql.SQL("")
        found = conn.exec_driver_sql(sql.SQL("SELECT {}{} FROM {}").format(
            sql.Identifier(column), shape, sql.Identifier(table)
        ).as_string(conn.connection.dbapi_connection)).all()
        codes = {row[0] for row in found}
        tree = None
        for n, row in enumerate(values):
            if row[at] is None and fill and geoms[n] is not None:
                if tree is None:
                    shapes = shapely.from_wkb([bytes(wkb) for _, wkb in found])
                    tree = shapely.STRtree(shapes)
                hits = tree.query(shapely.point_on_surface(geoms[n]), predicate="intersects")
                row[at] = found[hits[0]][0] if len(hits) else None
                if row[at] is None and spec.required and n + first not in placed:
                    issues.append(RowIssue(
                        n + first, spec.name, "", "vị trí không thuộc xã nào; hãy ghi mã xã",
                        "the position lies in no commune; give the commune code"))
            elif row[at] is not None and row[at] not in codes:
                issues.append(RowIssue(n + first, spec.name, str(row[at]),
                                       f"không có mã này trong lớp '{table}'",
                                       f"no such code in layer '{table}'"))
    return issues


def _province(conn: Connection) -> Any:
    wkb = conn.exec_driver_sql("SELECT ST_AsBinary(ST_Union(geom)) FROM province").scalar()
    return shapely.from_wkb(bytes(wkb)) if wkb else None


def _keys(source: readers.Source, key_column: str | None, values: list[list[Any]],
          geoms: np.ndarray, first: int) -> tuple[list[str], list[RowIssue]]:
    """Each row's key in its dataset: the key column, or a digest of the row's content."""
    issues: list[RowIssue] = []
    keys: list[str] = []
    if key_column and not set(key_column.split(",")) <= set(source.columns):
        raise FileRejected(f"Không có cột khóa '{key_column}' trong tệp.",
                           f"The key column '{key_column}' is not in the file.")
    at = [source.columns.index(c) for c in key_column.split(",")] if key_column else []
    seen: dict[str, int] = {}
    for n, row in enumerate(source.rows):
        if at:
            key = "/".join(clean_text(row[i]) if row[i] is not None else "" for i in at)
            key = "" if not key.strip("/") else key
            if not key:
                issues.append(RowIssue(n + first, key_column or "", "", "thiếu giá trị khóa",
                                       "missing key value"))
        else:
            content = json.dumps(values[n], default=str, ensure_ascii=False)
            wkb = shapely.to_wkb(geoms[n]) if geoms[n] is not None else b""
            key = hashlib.sha1(content.encode() + wkb, usedforsecurity=False).hexdigest()
        if key and key in seen:
            issues.append(RowIssue(n + first, key_column or CONTENT_KEY, key,
                                   f"trùng với dòng {seen[key]}", f"duplicates row {seen[key]}"))
        seen.setdefault(key, n + first)
        keys.append(key)
    return keys, issues


def _crs_hint(raw: np.ndarray | None, srid: int, province: Any) -> tuple[str, str]:
    """Why most rows fall outside the province, with a better CRS when one fits."""
    sample = np.array([g for g in (raw if raw is not None else []) if g is not None][:200],
                      dtype=object)
    candidates = [4326, 4756, *VN2000_TM3_ZONES, 3405, 3406]
    for candidate in candidates:
        if candidate == srid or not len(sample):
            continue
        try:
            moved = _to_wgs84(sample, candidate)
        except Exception:  # noqa: BLE001 - a CRS that cannot take these numbers is no candidate
            continue
        if np.mean(shapely.intersects(province, moved)) > 0.9:
            return (f"Phần lớn đối tượng nằm ngoài tỉnh theo EPSG:{srid}: có lẽ sai hệ tọa độ; "
                    f"dữ liệu khớp với EPSG:{candidate} (--crs EPSG:{candidate}).",
                    f"Most features fall outside the province under EPSG:{srid}: probably a CRS "
                    f"error; the data fits EPSG:{candidate} (--crs EPSG:{candidate}).")
    return (f"Phần lớn đối tượng nằm ngoài tỉnh theo EPSG:{srid}: có lẽ sai hệ tọa độ hoặc đảo "
            "kinh độ/vĩ độ.",
            f"Most features fall outside the province under EPSG:{srid}: probably a CRS error or "
            "swapped longitude/latitude.")


def record_job(engine: Engine, report: ImportReport) -> None:
    """Keep the job and its report (a rejected or dry-run import writes nothing else)."""
    conn = engine.raw_connection()
    try:
        with translate_db_errors(), conn.cursor() as cur:
            report.job = insert_job(cur, report)
        conn.commit()
    finally:
        conn.close()


def insert_job(cur: Any, report: ImportReport) -> int:
    """Insert the job row of ``report``; its id."""
    cur.execute(
        "INSERT INTO import_jobs (layer, dataset, file_name, file_sha256, file_size, source_crs, "
        "actor, status, added, changed, removed, unchanged, report, finished_at) VALUES (%s, %s, "
        "%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, "
        "CASE WHEN %s NOT IN ('running', 'pending') THEN now() END) RETURNING id",
        (report.layer, report.dataset, report.file_name, report.file_sha256, report.file_size,
         report.source_crs, report.actor, report.status, report.added, report.changed,
         report.removed, report.unchanged, json.dumps(report.as_dict(), default=str),
         report.status))
    return cur.fetchone()[0]


def _copy_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, list):
        return "{" + ",".join(_array_item(v) for v in value) + "}"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _array_item(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def finish_job(cur: Any, report: ImportReport) -> None:
    """Write the job's outcome: status, counts and report."""
    cur.execute(
        "UPDATE import_jobs SET status = %s, added = %s, changed = %s, removed = %s, "
        "unchanged = %s, report = %s, finished_at = CASE WHEN %s <> 'pending' THEN now() END "
        "WHERE id = %s",
        (report.status, report.added, report.changed, report.removed, report.unchanged,
         json.dumps(report.as_dict(), default=str), report.status, report.job))


def dataset_version(cur: Any, layer: LayerSpec, dataset: str) -> str:
    """A hash of every row an import of ``dataset`` replaces: any write to them changes it."""
    cur.execute(sql.SQL(
        "SELECT md5(coalesce(string_agg(md5(row_to_json(t)::text), '' ORDER BY t.id), '')) "
        "FROM {} t WHERE t.source_dataset = %s").format(sql.Identifier(layer.id)), (dataset,))
    return cur.fetchone()[0]


def lock_layer(cur: Any, layer: LayerSpec) -> None:
    """Hold the layer against other imports and edits until the transaction ends."""
    cur.execute(sql.SQL("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE").format(
        sql.Identifier(layer.id)))


def merge(cur: Any, layer: LayerSpec, checked: Checked, actor: str,
          tell: Progress | None = None, preview: int = 0) -> None:
    """Stage the checked rows with COPY and merge them into the layer by source key, in the
    cursor's transaction, under the report's job; the report gets the counts (and, with
    ``preview``, up to that many changed features, each with its ``change``, as GeoJSON)."""
    report, keys = checked.report, checked.keys
    table = sql.Identifier(layer.id)
    names = [f.name for f in layer.fields]
    fields = sql.SQL(", ").join(map(sql.Identifier, names))
    staged = sql.SQL(", ").join(sql.SQL("s.{}").format(sql.Identifier(n)) for n in names)
    current = sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(n)) for n in names)
    ewkb = shapely.to_wkb(shapely.set_srid(checked.geoms, 4326), hex=True, include_srid=True)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for key, wkb, row in zip(keys, ewkb, checked.values, strict=True):
        writer.writerow([key, wkb, *(_copy_value(v) for v in row)])
    buffer.seek(0)
    params = {"ds": report.dataset, "job": report.job}
    cur.execute("SELECT set_config('ioc.actor', %s, true), set_config('ioc.source', %s, true)",
                (actor, f"import:{report.job}"))
    lock_layer(cur, layer)
    cur.execute(sql.SQL(
        "CREATE TEMP TABLE ioc_stage ON COMMIT DROP AS SELECT source_key, geom, {} FROM {} "
        "WITH NO DATA").format(fields, table))
    cur.copy_expert(sql.SQL("COPY ioc_stage (source_key, geom, {}) FROM STDIN WITH (FORMAT csv)"
                            ).format(fields).as_string(cur), buffer)
    if tell:
        tell("ghi / write", len(keys), len(keys))
    cur.execute("CREATE INDEX ON ioc_stage (source_key)")
    cur.execute("ANALYZE ioc_stage")
    cur.execute(sql.SQL(
        "UPDATE {t} t SET (geom, {f}) = (SELECT s.geom, {s}), import_job = %(job)s "
        "FROM ioc_stage s WHERE t.source_dataset = %(ds)s AND t.source_key = s.source_key "
        "AND (ST_AsEWKB(t.geom), {c}) IS DISTINCT FROM (ST_AsEWKB(s.geom), {s}){r}"
    ).format(t=table, f=fields, s=staged, c=current, r=_returning(preview)), params)
    report.changed = cur.rowcount
    shown = _shown(cur, preview, "changed")
    cur.execute(sql.SQL(
        "DELETE FROM {t} t WHERE t.source_dataset = %(ds)s AND NOT EXISTS "
        "(SELECT 1 FROM ioc_stage s WHERE s.source_key = t.source_key){r}").format(
            t=table, r=_returning(preview)), params)
    report.removed = cur.rowcount
    shown += _shown(cur, preview, "removed")
    cur.execute(sql.SQL(
        "INSERT INTO {t} AS t (geom, {f}, source_dataset, source_key, import_job) "
        "SELECT s.geom, {s}, %(ds)s, s.source_key, %(job)s FROM ioc_stage s WHERE NOT EXISTS "
        "(SELECT 1 FROM {t} t WHERE t.source_dataset = %(ds)s AND t.source_key = s.source_key){r}"
    ).format(t=table, f=fields, s=staged, r=_returning(preview)), params)
    report.added = cur.rowcount
    shown += _shown(cur, preview, "added")
    if preview:
        report.preview = {"type": "FeatureCollection", "features": shown[:preview]}
    report.unchanged = len(keys) - report.added - report.changed
    cur.execute("DROP TABLE ioc_stage")
    report.status = "imported" if report.added + report.changed + report.removed else "unchanged"


def _returning(preview: int) -> sql.Composable:
    return sql.SQL(" RETURNING ST_AsGeoJSON(t.geom, 6), t.source_key" if preview else "")


def _shown(cur: Any, preview: int, change: str) -> list[dict[str, Any]]:
    """Up to ``preview`` features just returned by the cursor, marked with their ``change``."""
    if not preview:
        return []
    return [{"type": "Feature", "geometry": json.loads(geom),
             "properties": {"source_key": key, "change": change}}
            for geom, key in cur.fetchmany(preview)]


def _store(engine: Engine, layer: LayerSpec, checked: Checked, options: ImportOptions,
           tell: Progress) -> None:
    """Merge the rows in one transaction under a new job (a dry run rolls back and keeps only
    the job with what would have changed)."""
    report = checked.report
    conn = engine.raw_connection()
    try:
        with translate_db_errors(), conn.cursor() as cur:
            report.job = insert_job(cur, report)
            merge(cur, layer, checked, options.actor, tell,
                  preview=options.preview if options.dry_run else 0)
            if options.dry_run:
                report.status = "dry_run"
                conn.rollback()
                report.job = insert_job(cur, report)
            else:
                finish_job(cur, report)
        conn.commit()
    finally:
        conn.rollback()
        conn.close()
