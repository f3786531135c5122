"""The pool under load: p50/p99 of ``ioc serve`` on a few endpoints and how many PostgreSQL
sessions it opened during each run (``pg_stat_database.sessions``). A pool that opens and closes
connections per burst shows here as sessions > 0 and a p99 far above the p50.

    python -m bench.pool [--scale 0.5] [--duration 15] [--connections 16] [--workers 2]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import psycopg2

from bench import database, servers, systems
from bench.config import ADMIN_URL, DATABASE
from bench.endpoints import ENDPOINTS
from bench.load import run_load

KEYS = ("items10", "feature", "deep", "mvt12")


def sessions(url: str) -> int:
    """Sessions PostgreSQL has opened on the bench database so far."""
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
        return cur.fetchone()[0]


def main(argv: Sequence[str] | None = None) -> int:
    """Measure each endpoint once; a table on stdout."""
    parser = argparse.ArgumentParser(prog="python -m bench.pool", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.5)
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    opts = parser.parse_args(argv)
    url = database.prepare(ADMIN_URL, DATABASE, opts.scale, reuse=True)
    fx = database.fixtures(url)
    server = servers.start(systems.ours(url, servers.free_port(), opts.workers))
    try:
        if not servers.wait_ready(server):
            print(f"ours did not start: {server.error}", file=sys.stderr)
            return 1
        print("| endpoint | req/s | p50 ms | p99 ms | sessions opened during the run |")
        print("|---|---|---|---|---|")
        for endpoint in (e for e in ENDPOINTS if e.key in KEYS):
            request = endpoint.request("ours", fx)
            assert request is not None
            before = sessions(url)
            r = run_load(server.base_url, request, f"pool-{endpoint.key}", threads=2,
                         connections=opts.connections, duration=opts.duration, warmup=opts.warmup)
            opened = sessions(url) - before - 1  # this count's own session
            print(f"| {endpoint.label} | {r.rps:.0f} | {r.p50_ms or 0:.1f} | {r.p99_ms or 0:.1f} | "
                  f"{opened} |", flush=True)
    finally:
        servers.stop(server)
        database.terminate_backends(ADMIN_URL, DATABASE)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
