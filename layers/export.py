"""Exports of a layer, or of a query on it, to GeoPackage, Shapefile (zipped), GeoJSON, CSV and XLSX.

Rows leave PostGIS through a server-side cursor in batches, already reprojected and with only the
fields the caller may see, so memory stays bounded whatever the layer's size. Each format is
written to a file in a folder the caller owns; the caller streams it and removes the folder.
"""

from __future__ import annotations

import csv
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from psycopg2 import sql
from psycopg2.extensions import TRANSACTION_STATUS_INTRANS as TRANSACTION_INTRANS

from gis_core.crs import CRS84_URI, VN2000_TM3_ZONES, crs_uri
from gis_core.db import translate_db_errors
from gis_core.errors import InvalidParameterError
from layers.items import ItemsQuery, items_where, order_by
from layers.spec import FieldSpec, LayerSpec

BATCH = 10_000
# Excel refuses cells longer than this; longer WKT is left out of XLSX (see the info sheet).
XLSX_CELL_LIMIT = 32_767
SHAPEFILE_NAME_LENGTH = 10


@dataclass(frozen=True)
class ExportFormat:
    """A file format offered for export."""

    id: str
    extension: str
    media_type: str
    title: str


FORMATS: dict[str, ExportFormat] = {f.id: f for f in (
    ExportFormat("gpkg", "gpkg", "application/geopackage+sqlite3", "GeoPackage"),
    ExportFormat("shp", "zip", "application/zip", "ESRI Shapefile (zip)"),
    ExportFormat("geojson", "geojson", "application/geo+json", "GeoJSON"),
    ExportFormat("csv", "csv", "text/csv; charset=utf-8", "CSV (UTF-8)"),
    ExportFormat("xlsx", "xlsx",
                 "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "Excel"),
)}
# WGS 84 and the VN-2000 provincial TM-3 zones.
EXPORT_SRIDS: tuple[int, ...] = (4326, *VN2000_TM3_ZONES)


@dataclass(frozen=True)
class ExportResult:
    """A written export: where it is, what to call it, and what it holds."""

    path: Path
    filename: str
    media_type: str
    count: int
    fields: tuple[str, ...]
    srid: int


def parse_format(value: str | None) -> ExportFormat:
    """The export format called ``value`` (gpkg, shp, geojson, csv, xlsx); 400 otherwise."""
    fmt = FORMATS.get((value or "").strip().lower())
    if fmt is None:
        offered = ", ".join(FORMATS)
        raise InvalidParameterError(
            f"Tham số 'format' không hợp lệ: '{value}'. Các định dạng hỗ trợ: {offered}.",
            message_en=f"Parameter 'format' is invalid: '{value}'. Supported formats: {offered}.",
            parameter="format",
        )
    return fmt


def parse_export_crs(value: str | None) -> int:
    """The SRID of an export CRS: WGS 84 (EPSG:4326, CRS84) or VN-2000 EPSG:9205–9218; 400 otherwise."""
    text = (value or "EPSG:4326").strip().upper()
    for prefix in ("HTTP://WWW.OPENGIS.NET/DEF/CRS/EPSG/0/", "EPSG::", "EPSG:"):
        if text.startswith(prefix) and text[len(prefix):].isdigit():
            text = text[len(prefix):]
    if text in ("CRS84", "OGC:CRS84", CRS84_URI.upper()):
        return 4326
    if text.isdigit() and int(text) in EXPORT_SRIDS:
        return int(text)
    raise InvalidParameterError(
        f"Tham số 'crs' không hợp lệ: '{value}'. Dùng EPSG:4326 (WGS 84) hoặc EPSG:9205…EPSG:9218 "
        "(VN-2000 TM-3; Lai Châu: EPSG:9205).",
        message_en=f"Parameter 'crs' is invalid: '{value}'. Use EPSG:4326 (WGS 84) or "
        "EPSG:9205…EPSG:9218 (VN-2000 TM-3; Lai Châu: EPSG:9205).",
        parameter="crs",
    )


def parse_geometry_columns(value: str | None) -> str | None:
    """How CSV and XLSX carry geometry: ``xy`` (coordinate columns, points only) or ``wkt``."""
    if value is None:
        return None
    if value not in ("xy", "wkt"):
        raise InvalidParameterError(
            f"Tham số 'geometry' không hợp lệ: '{value}'. Dùng 'xy' (cột tọa độ) hoặc 'wkt'.",
            message_en=f"Parameter 'geometry' is invalid: '{value}'. Use 'xy' or 'wkt'.",
            parameter="geometry",
        )
    return value


def shapefile_names(names: list[str]) -> dict[str, str]:
    """Field name → unique dBASE name of at most 10 characters (``predecesso``, ``predeces_2``…)."""
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for name in names:
        short = name[:SHAPEFILE_NAME_LENGTH]
        n = 1
        while short.lower() in taken:
            n += 1
            suffix = f"_{n}"
            short = name[:SHAPEFILE_NAME_LENGTH - len(suffix)] + suffix
        taken.add(short.lower())
        mapping[name] = short
    return mapping


def export_filename(layer: LayerSpec, fmt: ExportFormat, srid: int) -> str:
    """The file name offered to the user, e.g. ``housing_EPSG9205.gpkg``."""
    return f"{layer.id}_EPSG{srid}.{fmt.extension}"


def export_layer(
    connection: Any, layer: LayerSpec, fmt: ExportFormat, srid: int, directory: Path, *,
    query: ItemsQuery | None = None, visible: tuple[FieldSpec, ...] | None = None,
    limit: int | None = None, geometry_columns: str | None = None,
) -> ExportResult:
    """Write ``layer`` (filtered by ``query``) as ``fmt`` in ``srid`` into ``directory``.

    Args:
        connection: a psycopg2 connection; the export reads in one transaction, rolled back after.
        query: the filters of an items request (bbox, datetime, CQL2, attributes, sortby); its
            limit, offset and crs are ignored: ``limit`` bounds the export, ``srid`` sets the CRS.
        visible: the fields the caller may see (default: the public ones). An authorization
            policy passes more; personal fields never leave otherwise.
        geometry_columns: for CSV and XLSX, ``xy`` (points only) or ``wkt``; default xy for points.
    """
    visible = layer.public_fields if visible is None else visible
    query = query or ItemsQuery()
    if query.properties is not None:
        visible = tuple(f for f in visible if f.name in query.properties)
    if geometry_columns == "xy" and layer.geometry != "Point" and fmt.id in ("csv", "xlsx"):
        raise InvalidParameterError(
            f"Lớp '{layer.id}' không phải lớp điểm: dùng geometry=wkt.",
            message_en=f"Layer '{layer.id}' is not a point layer: use geometry=wkt.",
            parameter="geometry",
        )
    xy = (geometry_columns or ("xy" if layer.geometry == "Point" else "wkt")) == "xy"
    path = directory / export_filename(layer, fmt, srid)
    with translate_db_errors():
        rows = _rows(connection, layer, fmt.id, srid, query, visible, limit, xy)
        writer = {"gpkg": _write_gpkg, "shp": _write_shapefile, "geojson": _write_geojson,
                  "csv": _write_csv, "xlsx": _write_xlsx}[fmt.id]
        try:
            count = writer(path, layer, srid, visible, rows, xy)
        finally:
            rows.close()
            connection.rollback()
    return ExportResult(path, path.name, fmt.media_type, count,
                        ("id", *(f.name for f in visible)), srid)


# --- reading ---------------------------------------------------------------------------------

def _column(f: FieldSpec, fmt: str) -> sql.Composable:
    """The SQL for one field, shaped for the target format."""
    column = sql.Identifier(f.name)
    if f.type == "text[]" and fmt != "geojson":
        return sql.SQL("array_to_string({}, '; ')").format(column)
    if f.type == "datetime":
        if fmt in ("gpkg", "xlsx"):
            return sql.SQL("({} AT TIME ZONE 'UTC')").format(column)
        if fmt in ("shp", "csv"):
            return sql.SQL("to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')").format(
                column)
    if f.type == "date" and fmt == "csv":
        return sql.SQL("{}::text").format(column)
    return column


def _select(layer: LayerSpec, fmt: str, srid: int, visible: tuple[FieldSpec, ...],
            xy: bool) -> list[sql.Composable]:
    decimals = 7 if srid == 4326 else 3
    geom = sql.SQL("geom") if srid == 4326 else sql.SQL("ST_Transform(geom, {})").format(
        sql.Literal(srid))
    fields = [_column(f, fmt) for f in visible]
    if fmt == "geojson":
        pairs = sql.SQL(", ").join(sql.SQL("{}, {}").format(sql.Literal(f.name), c)
                                   for f, c in zip(visible, fields, strict=True))
        return [sql.SQL(
            "json_build_object('type', 'Feature', 'id', id, 'geometry', "
            "ST_AsGeoJSON({}, {}, 0)::json, 'properties', json_build_object({}))::text"
        ).format(geom, sql.Literal(decimals), pairs)]
    if fmt in ("gpkg", "shp"):
        shape = sql.SQL("ST_AsBinary({})").format(geom)
    elif xy:
        shape = sql.SQL("round(ST_X({g})::numeric, {d})::float8, round(ST_Y({g})::numeric, {d})::float8"
                        ).format(g=geom, d=sql.Literal(decimals))
    else:
        shape = sql.SQL("ST_AsText({}, {})").format(geom, sql.Literal(decimals))
    return [sql.SQL("id"), *fields, shape]


def _rows(connection: Any, layer: LayerSpec, fmt: str, srid: int, query: ItemsQuery,
          visible: tuple[FieldSpec, ...], limit: int | None, xy: bool) -> Iterator[list[tuple]]:
    """Batches of rows from a server-side cursor (bounded memory)."""
    selected = items_where(layer, query, visible)
    statement = sql.SQL("SELECT {} FROM {}{} ORDER BY {}{}").format(
        sql.SQL(", ").join(_select(layer, fmt, srid, visible, xy)), sql.Identifier(layer.id),
        selected.clause(), order_by(query),
        sql.SQL(" LIMIT {}").format(sql.Literal(limit)) if limit is not None else sql.SQL(""))
    cursor = connection.cursor(name="ioc_export")
    cursor.itersize = BATCH
    try:
        cursor.execute(statement, selected.params)
        while batch := cursor.fetchmany(BATCH):
            yield batch
    finally:
        if not connection.closed and connection.get_transaction_status() == TRANSACTION_INTRANS:
            cursor.close()


# --- writing ---------------------------------------------------------------------------------

def _array(values: tuple, f: FieldSpec, fmt: str) -> tuple[np.ndarray, np.ndarray | None]:
    """One column of a batch as a numpy array and its null mask, for pyogrio."""
    mask = np.fromiter((v is None for v in values), dtype=bool, count=len(values))
    kind = f.type
    if kind == "datetime" and fmt == "shp":
        kind = "text"  # dBASE has no date-time type: ISO 8601 text in UTC
    if kind == "integer":
        return np.array([0 if v is None else v for v in values], dtype=np.int64), mask
    if kind == "number":
        return np.array([np.nan if v is None else v for v in values], dtype=np.float64), mask
    if kind == "boolean":
        return np.array([bool(v) for v in values], dtype=bool), mask
    if kind == "date":
        return np.array([np.datetime64("NaT") if v is None else np.datetime64(v, "D")
                         for v in values], dtype="datetime64[D]"), mask
    if kind == "datetime":
        return np.array([np.datetime64("NaT") if v is None else np.datetime64(v, "ms")
                         for v in values], dtype="datetime64[ms]"), mask
    return np.array(values, dtype=object), None


def _write_ogr(path: Path, layer: LayerSpec, srid: int, visible: tuple[FieldSpec, ...],
               batches: Iterator[list[tuple]], *, driver: str, names: list[str],
               options: dict[str, Any]) -> int:
    from pyogrio.raw import write

    id_field = FieldSpec("fid_ioc", "integer")  # stands in for ``id`` when typing the column
    specs = (id_field, *visible)
    fmt = "shp" if driver == "ESRI Shapefile" else "gpkg"
    count = 0

    def put(rows: list[tuple], append: bool) -> None:
        columns = list(zip(*rows, strict=True)) if rows else [()] * (len(specs) + 1)
        arrays = [_array(columns[i], spec, fmt) for i, spec in enumerate(specs)]
        geometry = np.array([bytes(g) for g in columns[-1]], dtype=object)
        write(str(path), geometry, [a for a, _ in arrays], names,
              field_mask=[m for _, m in arrays], layer=layer.id, driver=driver,
              geometry_type=layer.geometry, crs=f"EPSG:{srid}", append=append,
              encoding="UTF-8" if driver == "ESRI Shapefile" else None,
              **({} if append else options))

    for rows in batches:
        put(rows, append=count > 0)
        count += len(rows)
    if count == 0:
        put([], append=False)
    return count


def _write_gpkg(path: Path, layer: LayerSpec, srid: int, visible: tuple[FieldSpec, ...],
                batches: Iterator[list[tuple]], xy: bool) -> int:
    options = {"layer_options": {"IDENTIFIER": layer.title["vi"],
                                 "DESCRIPTION": layer.description["vi"]}}
    return _write_ogr(path, layer, srid, visible, batches, driver="GPKG",
                      names=["id", *(f.name for f in visible)], options=options)


def _write_shapefile(path: Path, layer: LayerSpec, srid: int, visible: tuple[FieldSpec, ...],
                     batches: Iterator[list[tuple]], xy: bool) -> int:
    """A zip of .shp, .shx, .dbf, .prj, .cpg (UTF-8) and the field-name mapping (CSV)."""
    folder = path.parent / f"{layer.id}_shp"
    folder.mkdir()
    mapping = shapefile_names(["id", *(f.name for f in visible)])
    count = _write_ogr(folder / f"{layer.id}.shp", layer, srid, visible, batches,
                       driver="ESRI Shapefile", names=list(mapping.values()), options={})
    by_name = {f.name: f for f in visible}
    with (folder / f"{layer.id}_fields.csv").open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["shapefile_field", "field", "type", "title_vi", "title_en"])
        for name, short in mapping.items():
            spec = by_name.get(name)
            writer.writerow([short, name, "integer" if spec is None else
                             ("text" if spec.type == "datetime" else spec.type),
                             spec.title.get("vi", "") if spec else "Mã đối tượng",
                             spec.title.get("en", "") if spec else "Feature id"])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for member in sorted(folder.iterdir()):
            archive.write(member, member.name)
    for member in folder.iterdir():
        member.unlink()
    folder.rmdir()
    return count


def _write_geojson(path: Path, layer: LayerSpec, srid: int, visible: tuple[FieldSpec, ...],
                   batches: Iterator[list[tuple]], xy: bool) -> int:
    head: dict[str, Any] = {"type": "FeatureCollection", "name": layer.id}
    if srid != 4326:
        # RFC 7946 knows only WGS 84; GDAL and QGIS read this (2008) member for other CRSs.
        head["crs"] = {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{srid}"}}
    count = 0
    with path.open("w", encoding="utf-8") as out:
        out.write(json.dumps(head, ensure_ascii=False)[:-1] + ', "features": [\n')
        for rows in batches:
            out.write((",\n" if count else "") + ",\n".join(r[0] for r in rows))
            count += len(rows)
        out.write("\n]}\n")
    return count


def _header(visible: tuple[FieldSpec, ...], srid: int, xy: bool) -> list[str]:
    geometry = (["lon", "lat"] if srid == 4326 else ["easting", "northing"]) if xy else ["wkt"]
    return ["id", *(f.name for f in visible), *geometry]


def _write_csv(path: Path, layer: LayerSpec, srid: int, visible: tuple[FieldSpec, ...],
               batches: Iterator[list[tuple]], xy: bool) -> int:
    count = 0
    # The BOM tells Excel the file is UTF-8, so Vietnamese text opens intact.
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(_header(visible, srid, xy))
        for rows in batches:
            writer.writerows(rows)
            count += len(rows)
    return count


def _write_xlsx(path: Path, layer: LayerSpec, srid: int, visible: tuple[FieldSpec, ...],
                batches: Iterator[list[tuple]], xy: bool) -> int:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(layer.id[:31])
    sheet.append(_header(visible, srid, xy))
    count = too_long = 0
    for rows in batches:
        for row in rows:
            if not xy and row[-1] is not None and len(row[-1]) > XLSX_CELL_LIMIT:
                row = (*row[:-1], None)
                too_long += 1
            sheet.append(row)
        count += len(rows)
    info = book.create_sheet("thong_tin")
    for line in (
        ["Lớp / Layer", layer.id, layer.title["vi"], layer.title["en"]],
        ["Hệ tọa độ / CRS", f"EPSG:{srid}", crs_uri(srid)],
        ["Số đối tượng / Features", count],
        ["Xuất lúc / Exported (UTC)", datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")],
        ["Thời gian / Times", "UTC"],
        *([["WKT quá dài bị bỏ / WKT too long for a cell, left out", too_long]] if too_long else []),
        [],
        ["Trường / Field", "Tên / Title (vi)", "Title (en)", "Kiểu / Type"],
        *([f.name, f.title.get("vi", ""), f.title.get("en", ""), f.type] for f in visible),
    ):
        info.append(line)
    book.save(path)
    return count
