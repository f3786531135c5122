"""``ioc export`` and ``ioc quality``: the data-out sub-commands of the ``ioc`` command."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gis_core.errors import InvalidParameterError
from gis_core.settings import Settings

Add = Callable[[str, Callable[[argparse.Namespace, Settings], None], str], argparse.ArgumentParser]
_LEVELS = {"public": ("public",), "internal": ("public", "internal"),
           "personal": ("public", "internal", "personal")}
_BY_EXTENSION = {".gpkg": "gpkg", ".zip": "shp", ".shp": "shp", ".geojson": "geojson",
                 ".json": "geojson", ".csv": "csv", ".xlsx": "xlsx"}


def _say(message: str) -> None:
    sys.stdout.write(message + "\n")
    sys.stdout.flush()


def _engine(settings: Settings) -> Any:
    from api.cli import database_url
    from gis_core.db import engine_for

    return engine_for(database_url(settings, start_embedded=False),
                      statement_timeout_ms=settings.statement_timeout_ms)


def _cmd_export(args: argparse.Namespace, settings: Settings) -> None:
    from layers.export import export_layer, parse_export_crs, parse_format, parse_geometry_columns
    from layers.items import parse_items_query
    from layers.registry import require_layer

    started = time.monotonic()
    layer = require_layer(args.layer)
    output = Path(args.output)
    fmt = parse_format(args.format or _BY_EXTENSION.get(output.suffix.lower()))
    srid = parse_export_crs(args.crs)
    geometry = parse_geometry_columns(args.geometry)
    options = {"filter": args.filter, "filter-lang": args.filter_lang, "bbox": args.bbox,
               "bbox-crs": args.bbox_crs, "datetime": args.datetime, "sortby": args.sortby}
    query = parse_items_query([(k, v) for k, v in options.items() if v is not None], layer,
                              default_limit=10, max_limit=2**31 - 1)
    if args.limit is not None and args.limit < 1:
        raise InvalidParameterError("--limit phải là số nguyên dương.",
                                    message_en="--limit must be a positive integer.")
    visible = tuple(f for f in layer.fields if f.sensitivity in _LEVELS[args.sensitivity])
    if not output.parent.is_dir():
        raise InvalidParameterError(f"Không có thư mục '{output.parent}'.",
                                    message_en=f"There is no folder '{output.parent}'.")
    with tempfile.TemporaryDirectory(prefix="ioc-export-", dir=output.parent) as directory:
        raw = _engine(settings).raw_connection()
        try:
            result = export_layer(raw.driver_connection, layer, fmt, srid, Path(directory),
                                  query=query, visible=visible, limit=args.limit,
                                  geometry_columns=geometry)
        finally:
            raw.close()
        shutil.move(result.path, output)
    _say(f"Đã xuất {result.count:,} đối tượng '{layer.id}' ({fmt.title}, EPSG:{srid}) → {output} "
         f"trong {time.monotonic() - started:.1f} s.")


def _cmd_quality(args: argparse.Namespace, settings: Settings) -> None:
    from gis_core.db import raw_cursor
    from layers.quality import layer_quality, province_quality, render_table
    from layers.registry import require_layer

    started = time.monotonic()
    layer = require_layer(args.layer) if args.layer else None
    with raw_cursor(_engine(settings)) as cursor:
        report: Any = layer_quality(cursor, layer) if layer else province_quality(cursor)
    payload = report.as_dict(detail=True) if layer else report.as_dict()
    if args.json:
        _say(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        _say(render_table(report, by=args.by))
        _say(f"({time.monotonic() - started:.1f} s)")


def add_commands(add: Add) -> None:
    """Register ``export`` and ``quality`` on the ``ioc`` parser."""
    export = add("export", _cmd_export, "Xuất một lớp ra tệp / export a layer to a file "
                 "(gpkg, shp, geojson, csv, xlsx; WGS 84 hoặc VN-2000)")
    export.add_argument("layer", help="mã lớp, ví dụ housing")
    export.add_argument("-o", "--output", required=True, help="tệp đích, ví dụ housing.gpkg")
    export.add_argument("--format", choices=("gpkg", "shp", "geojson", "csv", "xlsx"),
                        help="định dạng (mặc định: theo đuôi tệp)")
    export.add_argument("--crs", default="EPSG:4326",
                        help="EPSG:4326 (mặc định) hoặc EPSG:9205…9218 (VN-2000)")
    export.add_argument("--filter", help="bộ lọc CQL2, ví dụ \"poverty_status = 'poor'\"")
    export.add_argument("--filter-lang", help="cql2-text (mặc định) hoặc cql2-json")
    export.add_argument("--bbox", help="minx,miny,maxx,maxy (CRS84 hoặc --bbox-crs)")
    export.add_argument("--bbox-crs", help="hệ tọa độ của --bbox, ví dụ EPSG:9205")
    export.add_argument("--datetime", help="thời điểm hoặc khoảng RFC 3339")
    export.add_argument("--sortby", help="sắp xếp, ví dụ -members")
    export.add_argument("--limit", type=int, help="số đối tượng tối đa")
    export.add_argument("--geometry", choices=("xy", "wkt"), help="CSV/XLSX: cột tọa độ hoặc WKT")
    export.add_argument("--sensitivity", choices=tuple(_LEVELS), default="public",
                        help="trường được xuất: public (mặc định), internal, personal")
    quality = add("quality", _cmd_quality, "Chất lượng dữ liệu: đúng, đủ, sạch, sống / "
                  "data quality: correct, complete, clean, live")
    quality.add_argument("layer", nargs="?", help="một lớp (mặc định: tất cả)")
    quality.add_argument("--by", choices=("layer", "commune", "department"), default=None,
                         help="nhóm theo xã hoặc sở (mặc định: theo lớp; theo xã khi có LAYER)")
    quality.add_argument("--json", action="store_true", help="in JSON")
