"""``python -m bench.feedback``: Open311 intake, requests/s with no loss, against raw SQL inserts.

Builds ``ioc_bench_feedback`` (migrations and the samples at a small scale: the real communes),
serves it with uvicorn (``--workers``), posts ``--requests`` Open311 reports form-encoded with an
API key from ``--connections`` concurrent clients, then counts the rows: every 201 must be one
row. The anchor is the floor of the same work without HTTP: one INSERT and commit per report
from as many connections, straight into ``feedback_requests``.

    python -m bench.feedback [--requests 2000] [--connections 32] [--workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
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

from bench.config import ADMIN_URL, ROOT, VAR, database_url
from bench.servers import free_port

NAME = "ioc_bench_feedback"


def _prepare() -> tuple[str, str, tuple[float, float]]:
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
        cur.execute("SELECT ST_Y(p), ST_X(p) FROM communes, ST_PointOnSurface(geom) p LIMIT 1")
        spot = cur.fetchone()
    return url, key, spot


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


async def _post_all(base: str, key: str, spot: tuple[float, float], n: int, connections: int
                    ) -> tuple[float, dict[int, int]]:
    lat, lon = spot
    codes: dict[int, int] = {}
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(n):
        queue.put_nowait(i)
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            i = queue.get_nowait()
            response = await client.post(f"{base}/open311/v2/requests.json", data={
                "api_key": key, "service_code": "road_damage", "lat": str(lat), "long": str(lon),
                "description": f"Báo cáo thử số {i}", "first_name": "Thử", "phone": "0900000000"},
                headers={"Idempotency-Key": f"bench-{i}"})
            codes[response.status_code] = codes.get(response.status_code, 0) + 1

    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        start = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(connections)))
        return time.perf_counter() - start, codes


def _raw_inserts(url: str, spot: tuple[float, float], n: int, connections: int) -> float:
    lat, lon = spot

    def insert(chunk: range) -> None:
        with closing(psycopg2.connect(url)) as conn, conn.cursor() as cur:
            for i in chunk:
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


def main(argv: list[str] | None = None) -> None:
    """Measure and print the figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.feedback")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    url, key, spot = _prepare()
    process, base = _serve(url, args.workers)
    try:
        seconds, codes = asyncio.run(_post_all(base, key, spot, args.requests, args.connections))
    finally:
        process.terminate()
        process.wait(timeout=30)
    with closing(psycopg2.connect(url)) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM feedback_requests WHERE channel LIKE 'open311:%'")
        stored = cur.fetchone()[0]
    raw = _raw_inserts(url, spot, args.requests, min(args.connections, 16))
    http_rate, raw_rate = args.requests / seconds, args.requests / raw
    print(f"Open311 POST: {args.requests} reports in {seconds:.2f} s = {http_rate:.0f} req/s "
          f"({args.workers} workers, {args.connections} connections); answers {codes}; "
          f"rows stored {stored} (lost: {codes.get(201, 0) - stored})")
    print(f"raw SQL INSERT + commit: {raw_rate:.0f} rows/s; HTTP intake is "
          f"{http_rate / raw_rate:.0%} of the floor; target 200 req/s "
          f"{'met' if http_rate >= 200 else 'NOT met'}")


if __name__ == "__main__":
    main()
