"""``python -m bench.harvest``: 100,000 schools harvested from another instance's OGC API
(``/ogc/collections/schools/items``, pages of 10,000) beside ``ioc import`` of the same data as a
VN-2000 GeoPackage, into the same layer of a second database.

    python -m bench.harvest [--features 100000] [--runs 3] [--page-size 10000]

Both go through the same checks and merge (values, domains, the province, the commune, history,
merge by source key); the harvest also pages through the OGC API over HTTP and writes the pages
as GeoJSON first. A re-harvest of the unchanged source is timed too (it must write nothing).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import httpx
import numpy as np
import pyogrio
import shapely
from sqlalchemy import create_engine

from bench.config import ADMIN_URL
from bench.database import _recreate
from bench.imports import _timed
from bench.servers import free_port
from gis_core.crs import to_wgs84
from gis_core.db import to_sqlalchemy_url
from harvest import declarations, run, sources
from layers.imports.load import ImportOptions, run_import

SOURCE, TARGET = "ioc_bench_hsource", "ioc_bench_htarget"
ROOT = Path(__file__).resolve().parents[1]


def make_file(engine, n: int, folder: Path) -> Path:  # noqa: ANN001
    """``n`` schools spread over the communes, in EPSG:9205, with the layer's column names."""
    rng = np.random.default_rng(11)
    with engine.connect() as conn:
        communes = conn.exec_driver_sql("SELECT code, ST_AsBinary(geom) FROM communes").all()
    shapes = [shapely.from_wkb(bytes(w)) for _, w in communes]
    points: list = []
    per = n // len(shapes) + 1
    for shape in shapes:
        x0, y0, x1, y1 = shape.bounds
        found: list = []
        while len(found) < per:
            cand = shapely.points(rng.uniform(x0, x1, per * 3), rng.uniform(y0, y1, per * 3))
            found += list(cand[shapely.contains(shape, cand)])
        points += found[:per]
    points = points[:n]
    x, y = to_wgs84(9205).transform(shapely.get_x(points), shapely.get_y(points),
                                    direction="INVERSE")
    frame = gpd.GeoDataFrame({
        "name": [f"Trường số {i:06d}" for i in range(n)],
        "level": rng.choice(["preschool", "primary", "lower_secondary", "upper_secondary"], n),
        "students": rng.integers(20, 900, n),
        "classrooms": rng.integers(2, 40, n),
        "building_type": rng.choice(["permanent", "semi_permanent", "temporary"], n),
    }, geometry=shapely.points(x, y), crs="EPSG:9205")
    path = folder / "truong_hoc.gpkg"
    pyogrio.write_dataframe(frame, path, layer="truong_hoc")
    return path


def _database(name: str):  # noqa: ANN202
    from api.cli import migrate
    from layers.samples import fill_layer_tables

    _recreate(ADMIN_URL, name)
    url = ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    migrate(url)
    engine = create_engine(to_sqlalchemy_url(url))
    fill_layer_tables(engine, scale=0.01)
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM schools")
    return url, engine


def _serve(url: str, folder: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "IOC_VAR_DIR": str(folder), "IOC_PORT": str(port),
           "IOC_MAX_LIMIT": "10000", "IOC_STATEMENT_TIMEOUT_MS": "120000"}
    process = subprocess.Popen([sys.executable, "-m", "uvicorn", "api.app:create_app_from_env",
                                "--factory", "--host", "127.0.0.1", "--port", str(port),
                                "--log-level", "warning"], cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            httpx.get(f"{base}/api/v1/layers/communes", timeout=5)
            return process, base
        except httpx.TransportError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError("the source instance did not start")


def main(argv: Sequence[str] | None = None) -> None:
    """Build both databases and the file, serve the source, time both, print the table."""
    parser = argparse.ArgumentParser(prog="python -m bench.harvest")
    parser.add_argument("--features", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--page-size", type=int, default=10_000)
    args = parser.parse_args(argv)
    source_url, source = _database(SOURCE)
    _, target = _database(TARGET)

    def reset() -> None:
        with target.begin() as conn:
            conn.exec_driver_sql("DELETE FROM schools")

    with tempfile.TemporaryDirectory() as folder:
        path = make_file(source, args.features, Path(folder))
        options = ImportOptions(dataset="bench", actor="bench", max_features=args.features + 1)
        run_import(source, "schools", path, options)
        ours_s = _timed(lambda: run_import(target, "schools", path, options), reset, args.runs)
        process, base = _serve(source_url, Path(folder))
        try:
            decl = declarations.from_dict({
                "name": "bench", "layer": "schools", "kind": "ogcapi", "key": "id",
                "url": f"{base}/ogc/collections/schools", "page_size": args.page_size,
                "max_features": args.features + 1, "timeout_seconds": 300})
            with target.begin() as conn:
                sources.put(conn, decl, "bench")

            def harvest() -> None:
                result = run.run_source(target, "bench", "bench")
                assert result["status"] != "failed", result

            harvest_s = _timed(harvest, reset, args.runs)
            again_s = _timed(harvest, lambda: None, 1)
        finally:
            process.terminate()
            process.wait()
    n = args.features
    print(f"{'loader':48} {'seconds':>8} {'features/s':>11} {'vs import':>9}")
    for name, seconds in (("ioc import (GeoPackage, VN-2000)", ours_s),
                          (f"ioc harvest (OGC API, pages of {args.page_size:,})", harvest_s),
                          ("ioc harvest, source unchanged (no change)", again_s)):
        print(f"{name:48} {seconds:8.2f} {n / seconds:11,.0f} {ours_s / seconds:8.2f}×")


if __name__ == "__main__":
    main()
