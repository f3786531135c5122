"""``python -m bench.dataout``: export time and peak memory per format, beside ogr2ogr; quality run time.

    python -m bench.dataout --database postgresql://postgres@127.0.0.1:5432/ioc_bench [--layer housing]

Each export runs in a fresh process so its peak RSS is its own. The anchor is GDAL's ``ogr2ogr``
reading the same columns from the same table (PostgreSQL driver) into the same format and CRS.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

FORMATS = ("gpkg", "shp", "geojson", "csv", "xlsx")
OGR = {"gpkg": ("GPKG", "gpkg"), "shp": ("ESRI Shapefile", "shp"), "geojson": ("GeoJSON", "geojson"),
       "csv": ("CSV", "csv"), "xlsx": ("XLSX", "xlsx")}


def one(url: str, layer_id: str, fmt_id: str, srid: int) -> dict:
    """Run one export in this process; report seconds, features, bytes and peak RSS."""
    import psycopg2

    from layers.export import export_layer, parse_format
    from layers.registry import require_layer

    with tempfile.TemporaryDirectory() as folder:
        conn = psycopg2.connect(url)
        started = time.perf_counter()
        result = export_layer(conn, require_layer(layer_id), parse_format(fmt_id), srid, Path(folder))
        seconds = time.perf_counter() - started
        size = result.path.stat().st_size
    return {"seconds": seconds, "count": result.count, "bytes": size,
            "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def ogr2ogr(url: str, layer_id: str, fmt_id: str, srid: int) -> float | None:
    """Seconds for ogr2ogr to write the same columns, or None without ogr2ogr."""
    from layers.registry import require_layer

    if shutil.which("ogr2ogr") is None:
        return None
    layer = require_layer(layer_id)
    parts = urlparse(url)
    source = (f"PG:dbname={parts.path.lstrip('/')} host={parts.hostname} port={parts.port or 5432} "
              f"user={parts.username or 'postgres'}")
    columns = ", ".join(["id", *(f.name for f in layer.public_fields)])
    geom = "geom" if srid == 4326 else f"ST_Transform(geom, {srid}) AS geom"
    driver, extension = OGR[fmt_id]
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / f"{layer_id}.{extension}"
        command = ["ogr2ogr", "-f", driver, str(target), source, "-nln", layer_id,
                   "-sql", f"SELECT {columns}, {geom} FROM {layer_id} ORDER BY id"]  # noqa: S608
        if fmt_id == "csv":
            command += ["-lco", "GEOMETRY=AS_XY", "-lco", "WRITE_BOM=YES"]
        if fmt_id == "shp":
            command += ["-lco", "ENCODING=UTF-8"]
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        return time.perf_counter() - started


def quality(url: str) -> dict:
    """Seconds for the whole-province quality run and for each layer."""
    import psycopg2

    from layers.quality import province_quality

    conn = psycopg2.connect(url)
    with conn.cursor() as cur:
        report = province_quality(cur)
    conn.rollback()
    return {"seconds": report.seconds, "records": sum(r.records for r in report.layers)}


def main(argv: list[str] | None = None) -> None:
    """Print the export table (ours vs ogr2ogr) and the quality run time."""
    parser = argparse.ArgumentParser(prog="python -m bench.dataout")
    parser.add_argument("--database", required=True)
    parser.add_argument("--layer", default="housing")
    parser.add_argument("--one", nargs=2, metavar=("FORMAT", "SRID"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(one(args.database, args.layer, args.one[0], int(args.one[1]))))
        return
    print(f"{'format':8} {'crs':10} {'features':>9} {'ours s':>7} {'ogr2ogr s':>9} {'ratio':>6} "
          f"{'MB out':>7} {'peak RSS MB':>11}")
    for fmt in FORMATS:
        for srid in (4326, 9205):
            child = subprocess.run(
                [sys.executable, "-m", "bench.dataout", "--database", args.database,
                 "--layer", args.layer, "--one", fmt, str(srid)],
                check=True, capture_output=True, text=True)
            ours = json.loads(child.stdout.strip().splitlines()[-1])
            anchor = ogr2ogr(args.database, args.layer, fmt, srid)
            ratio = f"{ours['seconds'] / anchor:6.2f}" if anchor else "     –"
            anchor_text = f"{anchor:9.2f}" if anchor else "        –"
            print(f"{fmt:8} EPSG:{srid:<5} {ours['count']:>9,} {ours['seconds']:7.2f} {anchor_text} "
                  f"{ratio} {ours['bytes'] / 2**20:7.1f} {ours['rss_mb']:11.0f}")
    result = quality(args.database)
    print(f"quality, whole province: {result['records']:,} records in {result['seconds']:.1f} s")


if __name__ == "__main__":
    main()
