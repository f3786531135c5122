"""``python -m bench.imports``: 100,000 houses from a VN-2000 GeoPackage into ``housing``,
``ioc import`` side by side with ``ogr2ogr -f PostgreSQL`` (COPY mode) into the same table.

    python -m bench.imports [--features 100000] [--runs 3]

Appending to ``housing``, ogr2ogr falls back from COPY to one INSERT per feature (the table has
columns with defaults the file does not set), so a second ogr2ogr row loads a new bare table with
COPY, its fastest case. ogr2ogr only converts and copies; ``ioc import`` also maps headers,
checks every value against the layer's rules and domains, checks geometries and the province,
fills the commune, records provenance and history, and merges by source key. Both transform
VN-2000 with the national seven parameters. A re-import of the unchanged file is timed too (it
must write nothing).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
from sqlalchemy import create_engine

from bench.config import ADMIN_URL
from bench.database import _connect, _recreate
from gis_core.crs import to_wgs84, vn2000_tm3_proj4
from gis_core.db import to_sqlalchemy_url
from layers.imports.load import ImportOptions, run_import

DATABASE = "ioc_bench_import"


def make_file(engine, n: int, folder: Path) -> Path:
    """``n`` houses spread over the communes, in EPSG:9205, with the layer's column names."""
    rng = np.random.default_rng(7)
    with engine.connect() as conn:
        communes = conn.exec_driver_sql("SELECT code, ST_AsBinary(geom) FROM communes").all()
    shapes = [shapely.from_wkb(bytes(w)) for _, w in communes]
    codes, points = [], []
    per = n // len(shapes) + 1
    for (code, _), shape in zip(communes, shapes, strict=True):
        x0, y0, x1, y1 = shape.bounds
        found: list = []
        while len(found) < per:
            cand = shapely.points(rng.uniform(x0, x1, per * 3), rng.uniform(y0, y1, per * 3))
            found += list(cand[shapely.contains(shape, cand)])
        points += found[:per]
        codes += [code] * per
    points, codes = points[:n], codes[:n]
    x, y = to_wgs84(9205).transform(shapely.get_x(points), shapely.get_y(points), direction="INVERSE")
    frame = gpd.GeoDataFrame({
        "household_code": [f"HB-{i:07d}" for i in range(n)],
        "head_of_household": [f"Lò Văn {i % 997}" for i in range(n)],
        "village": [f"Bản {i % 53}" for i in range(n)],
        "members": rng.integers(1, 9, n),
        "poverty_status": rng.choice(["poor", "near_poor", "none"], n),
        "house_type": rng.choice(["permanent", "semi_permanent", "temporary"], n),
        "surveyed_at": ["2025-06-30T08:00:00+07:00"] * n,
        "approval_status": ["approved"] * n,
        "commune_code": codes,
    }, geometry=shapely.points(x, y), crs="EPSG:9205")
    path = folder / "ho_gia_dinh.gpkg"
    pyogrio.write_dataframe(frame, path, layer="ho_gia_dinh")
    return path


def _timed(action: Callable[[], object], reset: Callable[[], None], runs: int) -> float:
    times = []
    for _ in range(runs):
        reset()
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main(argv: Sequence[str] | None = None) -> None:
    """Build the database and the file, time both loaders, print the table and the ratio."""
    parser = argparse.ArgumentParser(prog="python -m bench.imports")
    parser.add_argument("--features", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    from api.cli import migrate
    from layers.samples import fill_layer_tables

    _recreate(ADMIN_URL, DATABASE)
    url = ADMIN_URL.rsplit("/", 1)[0] + "/" + DATABASE
    migrate(url)
    engine = create_engine(to_sqlalchemy_url(url))
    fill_layer_tables(engine, scale=0.01)

    def reset() -> None:
        with engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM housing")

    with tempfile.TemporaryDirectory() as folder:
        path = make_file(engine, args.features, Path(folder))
        conn = _connect(url)
        dsn = conn.dsn
        conn.close()
        source = vn2000_tm3_proj4(103.0)
        ogr = ["ogr2ogr", "-f", "PostgreSQL", f"PG:{dsn}", str(path), "ho_gia_dinh", "-append",
               "-nln", "housing", "-s_srs", source, "-t_srs", "EPSG:4326", "-nlt", "POINT",
               "--config", "PG_USE_COPY", "YES", "-gt", "65536"]
        env = {**os.environ, "PGCLIENTENCODING": "UTF8"}
        ogr_s = _timed(lambda: subprocess.run(ogr, check=True, env=env), reset, args.runs)
        fresh = [*ogr[:6], "-overwrite", "-nln", "housing_ogr", *ogr[9:]]
        fresh_s = _timed(lambda: subprocess.run(fresh, check=True, env=env), reset, args.runs)
        options = ImportOptions(crs=None, dataset="bench", actor="bench")
        ours_s = _timed(lambda: run_import(engine, "housing", path, options), reset, args.runs)
        again_s = _timed(lambda: run_import(engine, "housing", path, options), lambda: None, 1)
    n = args.features
    print(f"{'loader':44} {'seconds':>8} {'features/s':>11} {'vs ogr2ogr':>10}")
    for name, seconds in (("ogr2ogr -append into housing", ogr_s),
                          ("ogr2ogr into a new bare table (COPY)", fresh_s),
                          ("ioc import (validated, history, upsert)", ours_s),
                          ("ioc import, same file again (no change)", again_s)):
        print(f"{name:44} {seconds:8.2f} {n / seconds:11,.0f} {ogr_s / seconds:9.2f}×")


if __name__ == "__main__":
    main()
