"""Open a department's file — Shapefile, GeoPackage, GeoJSON, KML, GPX, CSV, XLSX or a .zip of
one — as a table of raw attribute values, geometries in the source CRS, and what is known of that
CRS and the text encoding."""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
import unicodedata
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from gis_core.crs import recognise_crs
from gis_core.text import without_paths
from layers.fields import fold, parse_number
from layers.imports import encoding as enc
from layers.imports.problems import FileRejected

VECTOR = {".shp", ".gpkg", ".geojson", ".json", ".kml", ".gpx"}
TABLES = {".csv", ".xlsx"}
SUPPORTED = VECTOR | TABLES | {".zip"}
# Zip bombs: limits read from the central directory before anything is written. Below
# RATIO_FLOOR of unpacked data any ratio is harmless (a DBF of blank padding compresses far).
MAX_UNZIPPED = 2 * 2**30
MAX_MEMBERS = 1000
MAX_RATIO = 200
RATIO_FLOOR = 16 * 2**20


@dataclass
class Source:
    """What was read: attribute rows, geometries (source CRS) and the CRS and encoding found."""

    name: str
    columns: list[str]
    rows: list[list[Any]]
    geometry: np.ndarray | None = None
    srid: int | None = None
    crs_note: str | None = None
    encoding: str | None = None
    coordinates: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # Why a row's geometry could not be read (row index → Vietnamese, English), e.g. an open ring.
    unreadable: dict[int, tuple[str, str]] = field(default_factory=dict)
    # What the CRS recognition noticed (a TOWGS84 unlike the national parameters): vi, en.
    crs_warnings: list[tuple[str, str]] = field(default_factory=list)


@contextmanager
def opened(path: Path, *, source_layer: str | None = None, max_features: int,
           geometry_type: str = "Point") -> Iterator[Source]:
    """Read ``path``; a .zip is unpacked (with limits against zip bombs) into a private folder."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise FileRejected(
            f"Không hỗ trợ loại tệp '{suffix or path.name}'. Hỗ trợ: Shapefile (.zip hoặc .shp), "
            ".gpkg, .geojson, .kml, .gpx, .csv, .xlsx.",
            f"Unsupported file type '{suffix or path.name}'. Supported: Shapefile (.zip or .shp), "
            ".gpkg, .geojson, .kml, .gpx, .csv, .xlsx.")
    if suffix != ".zip":
        yield read(path, source_layer=source_layer, max_features=max_features,
                   geometry_type=geometry_type)
        return
    with tempfile.TemporaryDirectory(prefix="ioc-import-") as folder:
        inner = _unzip(path, Path(folder), source_layer)
        source = read(inner, source_layer=None if inner.suffix == ".shp" else source_layer,
                      max_features=max_features, geometry_type=geometry_type)
        source.name = f"{path.name}/{inner.name}"
        yield source


def _check_archive(members: list[zipfile.ZipInfo], folder: Path) -> None:
    """Refuse a zip bomb or an unsafe path from the central directory alone, before writing."""
    total = sum(m.file_size for m in members)
    packed = sum(m.compress_size for m in members)
    bomb = (len(members) > MAX_MEMBERS or total > MAX_UNZIPPED
            or (total > RATIO_FLOOR and total > MAX_RATIO * max(packed, 1))
            or any(m.file_size > RATIO_FLOOR and m.file_size > MAX_RATIO * max(m.compress_size, 1)
                   for m in members))
    if bomb:
        raise FileRejected(
            f"Tệp .zip bung ra quá lớn so với kích thước nén (nghi ngờ 'zip bomb': {len(members):,} "
            f"tệp, {total / 2**20:,.0f} MB khi giải nén từ {packed / 2**20:,.1f} MB); từ chối. Giới "
            f"hạn: {MAX_MEMBERS:,} tệp, {MAX_UNZIPPED // 2**30} GB, nén không quá {MAX_RATIO} lần. "
            "Hãy gửi riêng tệp dữ liệu (.shp kèm .shx/.dbf/.prj, .gpkg…).",
            f"The .zip expands far beyond its compressed size (a suspected zip bomb: "
            f"{len(members):,} files, {total / 2**20:,.0f} MB unpacked from {packed / 2**20:,.1f} MB); "
            f"refused. Limits: {MAX_MEMBERS:,} files, {MAX_UNZIPPED // 2**30} GB, at most "
            f"{MAX_RATIO}:1 compression. Send the dataset's own files (.shp with .shx/.dbf/.prj, "
            ".gpkg…).")
    root = folder.resolve()
    for member in members:
        if root not in (folder / member.filename).resolve().parents:
            raise FileRejected(f"Tệp .zip chứa đường dẫn không an toàn: {member.filename}.",
                               f"The .zip holds an unsafe path: {member.filename}.")


def _unzip(path: Path, folder: Path, source_layer: str | None) -> Path:
    try:
        archive = zipfile.ZipFile(path)
        members = [m for m in archive.infolist() if not m.is_dir()]
        _check_archive(members, folder)
        for member in members:
            target = (folder / member.filename).resolve()
            target.parent.mkdir(parents=True, exist_ok=True)
            # zipfile stops each member at the size the central directory declares (and then
            # fails its CRC check if the data runs on), so the checked total bounds the disk used.
            with archive.open(member) as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst, 2**20)
    except zipfile.BadZipFile as err:
        raise FileRejected(f"Tệp .zip bị hỏng hoặc không phải .zip ({err}).",
                           f"The .zip is corrupt or not a zip file ({err}).") from err
    found = sorted(p for p in folder.rglob("*") if p.suffix.lower() in VECTOR | TABLES
                   and not p.name.startswith("."))
    if source_layer:
        found = [p for p in found if p.stem == source_layer] or found
    if not found:
        raise FileRejected("Trong tệp .zip không có dữ liệu nào đọc được (.shp, .gpkg, .geojson…).",
                           "The .zip holds no readable dataset (.shp, .gpkg, .geojson…).")
    if len(found) > 1:
        names = ", ".join(p.name for p in found)
        raise FileRejected(f"Tệp .zip có nhiều bộ dữ liệu ({names}); chọn một bằng --source-layer.",
                           f"The .zip holds several datasets ({names}); pick one with --source-layer.")
    return found[0]


def read(path: Path, *, source_layer: str | None, max_features: int, geometry_type: str) -> Source:
    """Read one unpacked file."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _table(path.name, _csv_rows(path.read_bytes()), max_features)
    if suffix == ".xlsx":
        return _table(path.name, _xlsx_rows(path, source_layer), max_features)
    return _vector(path, source_layer, max_features, geometry_type)


def _too_many(n: int, max_features: int) -> FileRejected:
    return FileRejected(
        f"Tệp có {n:,} đối tượng, vượt giới hạn {max_features:,} của một lần nhập; hãy chia nhỏ tệp "
        "(ví dụ theo xã).",
        f"The file has {n:,} features, over the limit of {max_features:,} per import; split it "
        "(for example by commune).")


def _unreadable(path: Path, err: Exception) -> FileRejected:
    """GDAL's complaint about a file, naming it as its sender did, never where the server put it."""
    said = without_paths(str(err), [str(path.parent), str(path.parent.resolve())]).rstrip(".")
    return FileRejected(f"Không đọc được tệp '{path.name}': {said}.",
                        f"Cannot read '{path.name}': {said}.")


def _vector(path: Path, source_layer: str | None, max_features: int, geometry_type: str) -> Source:
    # pyogrio brings GDAL, pandas and geopandas (≈100 MB): imported by the first file read, so a
    # web worker that never reads one does not carry them.
    import pyogrio
    import pyogrio.raw

    suffix = path.suffix.lower()
    notes: list[str] = []
    if suffix == ".shp":
        missing = [ext for ext in (".dbf", ".shx") if not _sidecar(path, ext)]
        if missing:
            raise FileRejected(
                f"Shapefile '{path.name}' thiếu tệp {', '.join(missing)} đi kèm; hãy gửi đủ bộ "
                "(.shp, .shx, .dbf, .prj), tốt nhất nén chung một .zip.",
                f"Shapefile '{path.name}' lacks its {', '.join(missing)} file; send the full set "
                "(.shp, .shx, .dbf, .prj), ideally zipped together.")
    try:
        layers = [str(name) for name, _ in pyogrio.list_layers(path)]
    except Exception as err:  # noqa: BLE001 - GDAL reports unreadable files in many ways
        raise _unreadable(path, err) from err
    if not layers:
        raise FileRejected(f"Tệp '{path.name}' không có lớp dữ liệu nào.",
                           f"'{path.name}' contains no layers.")
    layer = _pick_layer(path, layers, source_layer, geometry_type)
    text_encoding = None
    read_encoding = None
    if suffix == ".shp":
        cpg = _sidecar(path, ".cpg")
        declared = cpg.read_text(errors="replace").strip().lower() if cpg else ""
        if declared in ("utf-8", "utf8", "65001"):
            text_encoding = "utf-8"
        else:
            read_encoding = "latin1"  # raw bytes, decoded below once the encoding is known
    try:
        info = pyogrio.read_info(path, layer=layer, encoding=read_encoding)
        if info["features"] > max_features:
            raise _too_many(info["features"], max_features)
        # Unreadable geometries (an unclosed ring) become None here and a per-row reason below.
        frame = pyogrio.read_dataframe(path, layer=layer, encoding=read_encoding,
                                       on_invalid="ignore")
    except FileRejected:
        raise
    except Exception as err:  # noqa: BLE001 - GDAL reports unreadable files in many ways
        raise _unreadable(path, err) from err
    geometry = np.asarray(frame.geometry.values, dtype=object)
    srid, crs_note, crs_warnings = None, None, []
    prj = _sidecar(path, ".prj") if suffix == ".shp" else None
    definition = prj.read_text(errors="replace") if prj else info.get("crs")
    if suffix in (".kml", ".gpx", ".geojson", ".json") and not prj:
        srid, crs_note = 4326, "WGS 84 (theo chuẩn định dạng / by the format's definition)"
    elif definition:
        try:
            found = recognise_crs(definition)
            srid, crs_note, crs_warnings = found.srid, found.note, list(found.warnings)
        except Exception as err:  # noqa: BLE001 - pyproj and our own recognition both raise
            notes.append(f"crs-unrecognised:{err}")
    columns = [c for c in frame.columns if c != "geometry"]
    rows = frame[columns].astype(object).where(frame[columns].notna(), None).values.tolist()
    if read_encoding == "latin1":
        text_encoding = _fix_text(rows)
    unreadable = {}
    if any(g is None for g in geometry):
        _, _, wkb, _ = pyogrio.raw.read(path, layer=layer, columns=[], encoding=read_encoding)
        for n in np.flatnonzero([g is None for g in geometry]):
            if wkb[n] is not None:
                unreadable[int(n)] = _geometry_reason(lambda n=n: shapely.from_wkb(wkb[n]))
    return Source(name=path.name, columns=columns, rows=rows, geometry=geometry, srid=srid,
                  crs_note=crs_note, encoding=text_encoding, notes=notes, unreadable=unreadable,
                  crs_warnings=crs_warnings)


def _geometry_reason(parse: Any) -> tuple[str, str]:
    """Why ``parse()`` fails, in words that say what to fix."""
    try:
        parse()
    except Exception as err:  # noqa: BLE001 - GEOS and shapely raise several kinds
        message = str(err)
    else:
        message = ""
    if "closed linestring" in message:
        return ("vòng của đa giác không khép kín: điểm cuối của mỗi vòng phải trùng điểm đầu",
                "a polygon ring is not closed: each ring's last point must repeat its first")
    if "LinearRing" in message:
        return ("vòng của đa giác quá ít điểm: cần ít nhất 4 điểm, điểm cuối trùng điểm đầu",
                "a polygon ring has too few points: at least 4, the last repeating the first")
    message = message.split(": ", 1)[-1][:200]
    return (f"hình học không đọc được ({message})", f"unreadable geometry ({message})")


def _sidecar(path: Path, ext: str) -> Path | None:
    for candidate in path.parent.iterdir():
        if candidate.stem == path.stem and candidate.suffix.lower() == ext:
            return candidate
    return None


def _pick_layer(path: Path, layers: list[str], wanted: str | None, geometry_type: str) -> str:
    import pyogrio

    if wanted:
        if wanted not in layers:
            raise FileRejected(f"Tệp không có lớp '{wanted}'; các lớp: {', '.join(layers)}.",
                               f"The file has no layer '{wanted}'; its layers: {', '.join(layers)}.")
        return wanted
    if path.suffix.lower() == ".gpx":
        order = ["waypoints", "track_points"] if geometry_type == "Point" else ["tracks", "routes"]
        for name in order:
            if name in layers and pyogrio.read_info(path, layer=name)["features"]:
                return name
    if len(layers) > 1:
        raise FileRejected(
            f"Tệp có nhiều lớp ({', '.join(layers)}); chọn một bằng --source-layer.",
            f"The file has several layers ({', '.join(layers)}); pick one with --source-layer.")
    return layers[0]


def _fix_text(rows: list[list[Any]]) -> str:
    """Decode text read as Latin-1 with the encoding its bytes reveal; returns that encoding."""
    samples = [v.encode("latin1") for row in rows for v in row if isinstance(v, str)]
    found = enc.detect(samples[:20000])
    for row in rows:
        for i, value in enumerate(row):
            if isinstance(value, str):
                row[i] = enc.decode(value.encode("latin1"), found)
    return found


def _csv_rows(raw: bytes) -> list[list[Any]]:
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    lines = raw.splitlines()
    found = enc.detect(lines[:5000])
    text = enc.decode(raw, found)
    try:
        dialect = csv.Sniffer().sniff(text[:20000], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        return [row for row in reader if any(c.strip() for c in row)]
    except csv.Error as err:
        limit = csv.field_size_limit()
        raise FileRejected(
            f"Dòng {reader.line_num} của tệp CSV không đọc được ({err}). Một ô CSV dài tối đa "
            f"{limit:,} ký tự; hình học lớn hãy gửi dạng GeoPackage, Shapefile hoặc GeoJSON, văn "
            "bản dài hãy rút gọn.",
            f"Line {reader.line_num} of the CSV cannot be read ({err}). A CSV cell holds at most "
            f"{limit:,} characters; send large geometries as GeoPackage, Shapefile or GeoJSON and "
            "shorten long text.") from None


def _xlsx_rows(path: Path, sheet: str | None) -> list[list[Any]]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, data_only=True)
    except Exception as err:  # noqa: BLE001 - openpyxl raises many kinds on a broken file
        said = without_paths(str(err), [str(path.parent), str(path.parent.resolve())])
        raise FileRejected(f"Không đọc được bảng tính '{path.name}': {said}.",
                           f"Cannot read the workbook '{path.name}': {said}.") from err
    if sheet and sheet not in book.sheetnames:
        raise FileRejected(f"Bảng tính không có trang '{sheet}'; các trang: {', '.join(book.sheetnames)}.",
                           f"No sheet '{sheet}'; sheets: {', '.join(book.sheetnames)}.")
    ws = book[sheet] if sheet else book.worksheets[0]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    while rows and not any(v not in (None, "") for v in rows[0]):
        rows.pop(0)
    header_row = ws.min_row + (ws.max_row - ws.min_row + 1 - len(rows)) if rows else 1
    for merged in ws.merged_cells.ranges:
        if merged.min_row <= header_row <= merged.max_row:
            raise FileRejected(
                f"Dòng tiêu đề của trang '{ws.title}' có ô gộp ({merged.coord}); mỗi cột cần một "
                "tiêu đề riêng trên một dòng. Hãy bỏ gộp ô rồi nhập lại.",
                f"The header row of sheet '{ws.title}' has merged cells ({merged.coord}); each column "
                "needs its own one-line header. Unmerge them and import again.")
    return [r for r in rows if any(v not in (None, "") for v in r)]


_LON = {"lon", "lng", "long", "longitude", "kinh_do", "kinhdo"}
_LAT = {"lat", "latitude", "vi_do", "vido"}
_X = {"x", "easting", "toa_do_x", "toado_x", "east"}
_Y = {"y", "northing", "toa_do_y", "toado_y", "north"}
_WKT = {"wkt", "geometry", "geom", "hinh_hoc", "the_geom"}


def _table(name: str, rows: list[list[Any]], max_features: int) -> Source:
    if not rows:
        raise FileRejected(f"Tệp '{name}' trống.", f"'{name}' is empty.")
    header = [unicodedata.normalize("NFC", str(h or "")).strip() for h in rows[0]]
    data = rows[1:]
    if len(data) > max_features:
        raise _too_many(len(data), max_features)
    keys = {fold(h): h for h in header}
    coordinates: dict[str, str] = {}
    for role, names in (("wkt", _WKT), ("lon", _LON), ("lat", _LAT), ("x", _X), ("y", _Y)):
        for key in names:
            if key in keys:
                coordinates[role] = keys[key]
                break
    if not ("wkt" in coordinates or {"lon", "lat"} <= coordinates.keys()
            or {"x", "y"} <= coordinates.keys()):
        raise FileRejected(
            f"Bảng '{name}' không có cột tọa độ: cần 'kinh_do'/'vi_do' (lon/lat), 'x'/'y' "
            "(VN-2000) hoặc 'wkt'.",
            f"Table '{name}' has no coordinate columns: needs lon/lat, x/y (VN-2000) or wkt.")
    width = len(header)
    data = [list(r[:width]) + [None] * (width - len(r)) for r in data]
    geometry, unreadable = _table_geometry(header, data, coordinates)
    return Source(name=name, columns=header, rows=data, coordinates=coordinates,
                  geometry=geometry, unreadable=unreadable)


def _table_geometry(header: list[str], data: list[list[Any]], coords: dict[str, str]
                    ) -> tuple[np.ndarray, dict[int, tuple[str, str]]]:
    """Geometries from coordinate columns; a cell that cannot be read gives None (reported later,
    with the reason when a WKT value is there but unreadable)."""
    index = {h: i for i, h in enumerate(header)}
    out = np.empty(len(data), dtype=object)
    unreadable: dict[int, tuple[str, str]] = {}
    for n, row in enumerate(data):
        try:
            if "wkt" in coords:
                out[n] = shapely.from_wkt(str(row[index[coords["wkt"]]]))
            elif {"lon", "lat"} <= coords.keys():
                out[n] = shapely.Point(parse_number(row[index[coords["lon"]]]),
                                       parse_number(row[index[coords["lat"]]]))
            else:
                a, b = parse_number(row[index[coords["x"]]]), parse_number(row[index[coords["y"]]])
                # Vietnamese surveyors write X for northing; the larger value is the northing.
                out[n] = shapely.Point(min(a, b), max(a, b))
        except Exception:  # noqa: BLE001 - any unreadable cell becomes a per-row error
            out[n] = None
            wkt = row[index[coords["wkt"]]] if "wkt" in coords else None
            if wkt not in (None, ""):
                unreadable[n] = _geometry_reason(lambda wkt=wkt: shapely.from_wkt(str(wkt)))
    return out, unreadable
