"""``python -m bench.feedback``: Open311 intake, requests/s with no loss, against raw SQL inserts;
then the public ``feedback_points`` layer's items and tile against the SQL floor, beside housing.

Builds ``ioc_bench_feedback`` (migrations and the samples at a small scale: the real communes,
``--layer-rows`` reports spread over them by one INSERT), serves it with uvicorn (``--workers``),
posts ``--requests`` Open311 reports form-encoded with an API key from ``--connections``
concurrent clients (each answer timed: p50/p99), then counts the rows: every 201 must be one row,
with one chained audit entry. The anchor is the floor of the same work without HTTP: one INSERT
and commit per report from as many connections, straight into ``feedback_requests``.

The layer: ``wrk`` on items (limit=100) and one z12 tile of ``feedback_points`` and of
``housing`` (served by the bench matrix against pygeoapi and tipg), each against its SQL floor (the
same page or tile built by PostGIS alone on one connection, as in ``bench.floor``): the ratio
ours/floor of the feedback layer beside that of housing says whether it runs at the speed of the
other layers.

    python -m bench.feedback [--requests 2000] [--connections 32] [--workers 2]
                             [--layer-rows 20000] [--duration 10]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import secrets
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing

import httpx
import psycopg2
from psycopg2 import sql

from bench import load as bench_load
from bench.config import ADMIN_URL, ROOT, VAR, database_url
from bench.database import reader_key
from bench.endpoints import MVT_ACCEPT, Request
from bench.floor import Floor, time_statement
from bench.load import WrkResult, probe, run_load
from bench.servers import free_port

NAME = "ioc_bench_feedback"
SERVICES = ("road_damage", "street_light", "water_supply", "waste", "health", "complaint")
LAYERS = ("feedback_points", "housing")
TILE_ZOOM = 12


def _prepare(layer_rows: int) -> tuple[str, str, list[tuple[float, float]]]:
    from api.cli import load_samples, migrate
    from gis_core.db import engine_for
    from governance import accounts

    with closing(psycopg2.connect(ADMIN_URL)) as admin:
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(NAME)))
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(NAME)))
    url = database_url(ADMIN_URL, NAME)
    migrate(url)
    load_samples(url, 0.02)
    with engine_for(url).begin() as conn:
        _, key = accounts.create_api_client(conn, username="bench-app", scopes=())
    with closing(psycopg2.connect(url)) as conn, conn.cursor() as cur:
        # Where the reports are posted: 500 points spread over the communes, as citizens' would
        # be (one point for all would make every insert touch the same index pages).
        cur.execute("SELECT ST_Y(p), ST_X(p) FROM (SELECT (ST_Dump(ST_GeneratePoints(geom, 14, 7)))"
                    ".geom AS p FROM communes ORDER BY code) s")
        spots = cur.fetchall()
        # The layer's reports, spread over every commune (one statement; then folded).
        cur.execute(
            "INSERT INTO feedback_requests (token, service_code, description, geom, commune_code, "
            "department, due_on, channel, sensitive, status) "
            "SELECT md5(random()::text || n) || md5(n::text), (%(services)s)[1 + n %% 6], "
            "'Phản ánh mẫu ' || n, p, code, 'so_xay_dung', current_date + 10, 'bench-layer', "
            "n %% 6 = 5, (ARRAY['received', 'forwarded', 'in_progress', 'returned'])[1 + n %% 4] "
            "FROM (SELECT row_number() OVER () AS n, code, p FROM communes, "
            "ST_Dump(ST_GeneratePoints(geom, %(per)s)) d(path, p)) g",
            {"services": list(SERVICES),
             "per": max(1, layer_rows // 38)})
        cur.execute("SELECT to_regproc('ioc_fold_feature_changes') IS NOT NULL")
        if cur.fetchone()[0]:
            cur.execute("SELECT ioc_fold_feature_changes()")
        conn.commit()
    return url, key, spots


def _serve(url: str, workers: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "IOC_VAR_DIR": str(VAR / "feedback"),
           "IOC_PORT": str(port), "IOC_LOG_LEVEL": "WARNING", "IOC_AUDIT_ANCHOR_MINUTES": "0",
           "IOC_FEEDBACK_POSTS_PER_MINUTE": "100000000"}
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "api.app:create_app_from_env", "--factory", "--host",
         "127.0.0.1", "--port", str(port), "--workers", str(workers), "--log-level", "warning"],
        cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            httpx.get(f"{base}/open311/v2/services.json", timeout=2)
            return process, base
        except httpx.TransportError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit("the server did not start")


async def _post_all(base: str, key: str, spots: list[tuple[float, float]], n: int,
                    connections: int) -> tuple[float, dict[int, int], list[float]]:
    codes: dict[int, int] = {}
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(n):
        queue.put_nowait(i)
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            i = queue.get_nowait()
            lat, lon = spots[i % len(spots)]
            started = time.perf_counter()
            for attempt in range(3):  # a dropped keep-alive connection: the app would send again
                try:
                    response = await client.post(f"{base}/open311/v2/requests.json", data={
                        "api_key": key, "service_code": "road_damage", "lat": str(lat),
                        "long": str(lon), "description": f"Báo cáo thử số {i}",
                        "first_name": "Thử", "phone": "0900000000"},
                        headers={"Idempotency-Key": f"bench-{i}"})
                    break
                except httpx.TransportError:
                    if attempt == 2:
                        raise
                    codes[-1] = codes.get(-1, 0) + 1  # -1: retries with the same key
            latencies.append((time.perf_counter() - started) * 1000)
            codes[response.status_code] = codes.get(response.status_code, 0) + 1

    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        start = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(connections)))
        return time.perf_counter() - start, codes, latencies


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))] if ordered else 0.0


def _raw_inserts(url: str, spots: list[tuple[float, float]], n: int, connections: int) -> float:
    def insert(chunk: range) -> None:
        with closing(psycopg2.connect(url)) as conn, conn.cursor() as cur:
            for i in chunk:
                lat, lon = spots[i % len(spots)]
                cur.execute(
                    "INSERT INTO feedback_requests (token, client_token, service_code, description, "
                    "geom, commune_code, department, due_on, channel) VALUES (%s, %s, 'road_damage', "
                    "%s, ST_SetSRID(ST_MakePoint(%s, %s), 4326), NULL, 'so_xay_dung', current_date, "
                    "'raw')", (secrets.token_urlsafe(18), str(uuid.uuid4()), f"raw {i}", lon, lat))
                conn.commit()

    chunks = [range(k, n, connections) for k in range(connections)]
    start = time.perf_counter()
    with ThreadPoolExecutor(connections) as pool:
        list(pool.map(insert, chunks))
    return time.perf_counter() - start


# ----------------------------------------------------------------------------- the public layer

def _tile_of(cur: psycopg2.extensions.cursor, layer: str) -> tuple[int, int]:
    """The z12 tile (x, y) of the layer's feature nearest the centre of its extent."""
    cur.execute(sql.SQL(
        "SELECT ST_X(geom), ST_Y(geom) FROM (SELECT ST_PointOnSurface(geom) AS geom FROM {t} "
        "ORDER BY geom <-> (SELECT ST_SetSRID(ST_Centroid(ST_Extent(geom)::geometry), 4326) "
        "FROM {t}) LIMIT 1) s").format(t=sql.Identifier(layer)))
    lon, lat = cur.fetchone()
    n = 2**TILE_ZOOM
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return int((lon + 180) / 360 * n), int(y)


def _floor_sql(layer: str, tile: tuple[int, int]) -> dict[str, tuple[sql.Composable, dict]]:
    """The same items page (limit=100, numberMatched) and tile built by PostGIS alone."""
    from layers.registry import get_layer

    spec = get_layer(layer)
    assert spec is not None and spec.tiles is not None  # noqa: S101 - both layers have tiles
    table = sql.Identifier(layer)
    props = sql.SQL(", ").join(sql.SQL("{}, {}").format(sql.Literal(f.name), sql.Identifier(f.name))
                               for f in spec.public_fields)
    items = sql.SQL(
        "SELECT json_build_object('type', 'FeatureCollection', 'numberMatched', "
        "(SELECT count(*) FROM {t}), 'numberReturned', count(*), 'features', coalesce(json_agg("
        "json_build_object('type', 'Feature', 'id', id, 'geometry', ST_AsGeoJSON(geom, 7)::json, "
        "'properties', json_build_object({props})) ORDER BY id), '[]'::json))::text "
        "FROM (SELECT * FROM {t} ORDER BY id LIMIT 100) page").format(t=table, props=props)
    columns = sql.SQL(", ").join(sql.Identifier(c) for c in spec.tiles.properties)
    tiles = sql.SQL(
        "WITH r AS MATERIALIZED (SELECT geom, {c} FROM {t} WHERE geom && "
        "ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s), 4326)) SELECT ST_AsMVT(m, {name}) FROM "
        "(SELECT ST_AsMVTGeom(ST_Transform(geom, 3857), ST_TileEnvelope(%(z)s, %(x)s, %(y)s)) "
        "AS geom, {c} FROM r) m").format(c=columns, t=table, name=sql.Literal(layer))
    return {"items": (items, {}),
            "tile": (tiles, {"z": TILE_ZOOM, "x": tile[0], "y": tile[1]})}


def _floor(url: str, statement: sql.Composable, params: dict, runs: int = 200,
           budget_s: float = 4.0) -> Floor:
    with closing(psycopg2.connect(url)) as conn:
        conn.autocommit = True
        with conn.cursor() as cur:
            return time_statement(cur, statement, params, runs=runs, budget_s=budget_s)


def _layer_speeds(url: str, base: str, duration: int, connections: int
                  ) -> dict[str, dict[str, tuple[WrkResult, Floor, int | None]]]:
    """Per layer and request (items, tile): wrk's result, the SQL floor, the features returned."""
    results: dict[str, dict[str, tuple[WrkResult, Floor, int | None]]] = {}
    # As the matrix does: the bench's system client (public fields; households need a caller).
    bench_load.HEADERS["X-API-Key"] = reader_key(url)
    for layer in LAYERS:
        with closing(psycopg2.connect(url)) as conn, conn.cursor() as cur:
            x, y = _tile_of(cur, layer)
        requests = {
            "items": Request(f"/ogc/collections/{layer}/items?f=json&limit=100", "items"),
            "tile": Request(f"/ogc/collections/{layer}/tiles/WebMercatorQuad/{TILE_ZOOM}/{y}/{x}",
                            "tile", accept=MVT_ACCEPT)}
        floors = _floor_sql(layer, (x, y))
        results[layer] = {}
        for kind, request in requests.items():
            checked = probe(base, request)
            if not checked.ok:
                raise SystemExit(f"{layer} {kind}: {checked.status} {checked.error}")
            load = run_load(base, request, f"feedback-{layer}-{kind}", threads=2,
                            connections=connections, duration=duration, warmup=2)
            results[layer][kind] = (load, _floor(url, *floors[kind]), checked.count)
    return results


def main(argv: list[str] | None = None) -> None:
    """Measure and print the figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.feedback")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--layer-rows", type=int, default=20_000)
    parser.add_argument("--duration", type=int, default=10,
                        help="seconds of wrk per layer request (0: intake only)")
    parser.add_argument("--layer-connections", type=int, default=16)
    args = parser.parse_args(argv)
    url, key, spots = _prepare(args.layer_rows)
    load_start = os.getloadavg()[0]
    process, base = _serve(url, args.workers)
    try:
        seconds, codes, latencies = asyncio.run(
            _post_all(base, key, spots, args.requests, args.connections))
        with closing(psycopg2.connect(url)) as conn, conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM feedback_requests WHERE channel LIKE 'open311:%'")
            stored = cur.fetchone()[0]
            cur.execute("SELECT count(*) FROM audit_log WHERE action = 'feedback.received'")
            chained = cur.fetchone()[0]
            cur.execute("SELECT to_regclass('audit_pending') IS NOT NULL")
            pending = (0, 0)
            if cur.fetchone()[0]:
                cur.execute("SELECT (SELECT count(*) FROM audit_pending), "
                            "(SELECT count(*) FROM feature_count_pending)")
                pending = cur.fetchone()
        http_rate = args.requests / seconds
        print(f"Open311 POST: {args.requests} reports in {seconds:.2f} s = {http_rate:.0f} req/s "
              f"({args.workers} workers, {args.connections} connections), p50 "
              f"{_percentile(latencies, 0.5):.0f} ms, p99 {_percentile(latencies, 0.99):.0f} ms; "
              f"answers {codes}; rows stored {stored} (lost: {codes.get(201, 0) - stored}); audit "
              f"entries chained {chained}, still pending {pending[0]} entries, {pending[1]} "
              f"layer rows; load average {load_start:.1f} before, {os.getloadavg()[0]:.1f} after",
              flush=True)
        layers = _layer_speeds(url, base, args.duration, args.layer_connections) \
            if args.duration > 0 else {}
    finally:
        process.terminate()
        process.wait(timeout=30)
    raw_rate = args.requests / _raw_inserts(url, spots, args.requests, min(args.connections, 16))
    print(f"raw SQL INSERT + commit: {raw_rate:.0f} rows/s; HTTP intake is "
          f"{http_rate / raw_rate:.0%} of the floor; target 200 req/s "
          f"{'met' if http_rate >= 200 else 'NOT met'}")
    ratios: dict[str, dict[str, float]] = {}
    for layer, kinds in layers.items():
        for kind, (load, floor, count) in kinds.items():
            ratio = load.rps / floor.rps if floor.rps else 0.0
            ratios.setdefault(kind, {})[layer] = ratio
            print(f"{layer} {kind} ({count} features): {load.rps:.0f} req/s, p50 "
                  f"{load.p50_ms or 0:.1f} ms, p99 {load.p99_ms or 0:.1f} ms "
                  f"({args.layer_connections} connections, non-2xx {load.non_2xx}); SQL floor "
                  f"{floor.ms:.2f} ms ({floor.rps:.0f}/s on one connection); ours/floor {ratio:.2f}")
    for kind, by_layer in ratios.items():
        if by_layer.get("housing"):
            share = by_layer["feedback_points"] / by_layer["housing"]
            print(f"{kind}: feedback_points ours/floor is {share:.2f}× that of housing")

if __name__ == "__main__":
    main()
