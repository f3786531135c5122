"""``python -m bench.run``: build the bench database, start the three servers, load them, report.

    python -m bench.run [--scale 2.0] [--duration 10] [--connections 16] [--workers 2]
                        [--reuse-db] [--only ours,pygeoapi,tipg] [--endpoints items10,bbox,...]
"""

from __future__ import annotations

import argparse
import math
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

from bench import database, floor, load, servers, systems
from bench.config import ADMIN_URL, DATABASE, DOCS, SYSTEMS, VAR, Options
from bench.database import Fixtures
from bench.endpoints import ENDPOINT_KEYS, ENDPOINTS, Endpoint, Request
from bench.load import Probe, probe, run_load
from bench.report import Cell, Run, docs_page, fixtures_text, terminal

ABSENT = (404, 405, 501)
FEATURE_KEYS = ("items", "bbox", "deep", "cql", "crs", "feature")  # endpoints answering GeoJSON features


def _csv(allowed: Sequence[str]) -> Any:
    def parse(text: str) -> tuple[str, ...]:
        values = tuple(v.strip() for v in text.split(",") if v.strip())
        unknown = [v for v in values if v not in allowed]
        if unknown or not values:
            raise argparse.ArgumentTypeError(f"choose among {', '.join(allowed)}")
        return values

    return parse


def parse_args(argv: Sequence[str] | None) -> Options:
    """Options from the command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=2.0, help="sample scale (2.0 ≈ 215,000 households)")
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per cell")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of discarded warm-up per cell")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers of every system")
    parser.add_argument("--reuse-db", action="store_true", help="keep ioc_bench when built at this scale")
    parser.add_argument("--only", type=_csv(SYSTEMS), default=SYSTEMS, help="systems, comma-separated")
    parser.add_argument("--endpoints", type=_csv(ENDPOINT_KEYS), default=(),
                        help=f"endpoints, comma-separated, among {','.join(ENDPOINT_KEYS)}")
    parser.add_argument("--floor-runs", type=int, default=300, help="runs of each SQL floor query")
    args = parser.parse_args(argv)
    return Options(scale=args.scale, duration=args.duration, warmup=args.warmup,
                   connections=args.connections, threads=args.threads, workers=args.workers,
                   reuse_db=args.reuse_db, systems=tuple(s for s in SYSTEMS if s in args.only),
                   endpoints=args.endpoints, floor_runs=args.floor_runs)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


# ------------------------------------------------------------------------------------------ servers

def start_servers(opts: Options, url: str, started: dict[str, servers.Server]) -> None:
    """Start every selected system into ``started`` (filled as they start, so an interruption still
    knows what to stop), then wait for each to answer; failures are recorded, not raised."""
    for name in opts.systems:
        try:
            spec = systems.BUILDERS[name](url, servers.free_port(), opts.workers)
        except Exception as err:  # noqa: BLE001 - a system that cannot be set up is reported
            detail = getattr(err, "stderr", b"") or b""
            text = detail.decode(errors="replace")[-600:] if isinstance(detail, bytes) else str(detail)
            started[name] = servers.Server(
                servers.ServerSpec(name, [], {}, 0, "", VAR, VAR / f"{name}.log"),
                error=f"setup failed: {err} {text}".strip())
            continue
        print(f"· starting {name} on port {spec.port} ({spec.log})", flush=True)
        started[name] = servers.start(spec)
    for name, server in started.items():
        if server.error is None and servers.wait_ready(server):
            print(f"  {name} answers at {server.base_url}")
        else:
            print(f"  ! {name} did not start: {server.error}")


def stop_servers(running: dict[str, servers.Server]) -> None:
    """Stop every server (process groups), whatever happened."""
    for server in running.values():
        servers.stop(server)


# ------------------------------------------------------------------------------------------ checks

def _looks_like_degrees(p: Probe) -> bool:
    return bool(p.coords) and all(abs(x) <= 180 and abs(y) <= 90 for x, y in p.coords.values())


def check(endpoint: Endpoint, request: Request, p: Probe) -> Cell | None:
    """The cell when the request cannot be measured (n/a or error); None when it can."""
    if p.status in ABSENT or (p.status == 400 and (endpoint.key == "crs" or request.kind == "tile")):
        return Cell("n/a", probe=p, note=f"HTTP {p.status}")
    if not p.ok:
        return Cell("error", probe=p, note=str(p.status or p.error))
    if endpoint.key == "crs" and _looks_like_degrees(p):
        return Cell("n/a", probe=p, note="crs ignored: answered in degrees")
    return None


def _flag_minority(row: dict[str, Cell], values: dict[str, Any]) -> None:
    common, times = Counter(values.values()).most_common(1)[0]
    for system, value in values.items():
        if times == 1 or value != common:
            row[system].flagged = True


def _crs_offsets(row: dict[str, Cell]) -> dict[str, tuple[float, int]]:
    """Largest distance (m) between ours and each peer for the same features, and how many compared."""
    ours = row.get("ours")
    if ours is None or ours.state != "ok" or ours.probe is None:
        return {}
    offsets = {}
    for system, cell in row.items():
        if system == "ours" or cell.state != "ok" or cell.probe is None:
            continue
        common = set(ours.probe.coords) & set(cell.probe.coords)
        if common:
            offsets[system] = (max(math.dist(ours.probe.coords[i], cell.probe.coords[i]) for i in common),
                               len(common))
    return offsets


def agreement(endpoint: Endpoint, row: dict[str, Cell]) -> str | None:
    """A cross-check that passed: the systems measured returned the same features."""
    ok = {s: c.probe for s, c in row.items() if c.state == "ok" and c.probe and c.probe.count is not None}
    if len(ok) < 2 or any(row[s].flagged for s in ok) or len({p.count for p in ok.values()}) > 1:
        return None
    by_id = endpoint.key.startswith(FEATURE_KEYS)
    if by_id and len({tuple(sorted(map(str, p.ids))) for p in ok.values()}) > 1:
        return None
    count = next(iter(ok.values())).count or 0
    same = "the same features" if by_id else "the same number of features"
    text = f"{endpoint.label}: {', '.join(ok)} return {same} ({count:,})"
    if endpoint.key == "crs":
        text += "; " + ", ".join(f"EPSG:9205 coordinates within {d:.3f} m of ours for {system} ({n} features)"
                                 for system, (d, n) in _crs_offsets(row).items())
    return text


def _truncated_tiles(endpoint: Endpoint, row: dict[str, Cell], fx: Fixtures) -> list[str]:
    """Tiles holding fewer features than the households inside the tile (a buffer only adds)."""
    inside = fx.tiles[int(endpoint.key.removeprefix("mvt"))][2]
    notes = []
    for system, cell in row.items():
        if cell.state == "ok" and cell.probe and cell.probe.count is not None and cell.probe.count < inside:
            cell.flagged = True
            notes.append(f"{endpoint.label}: {system} returns {cell.probe.count:,} features; "
                         f"{inside:,} households lie inside the tile")
    return notes


def compare(endpoint: Endpoint, row: dict[str, Cell], fx: Fixtures) -> list[str]:
    """Correctness findings between systems for one endpoint; flags the cells concerned."""
    ok = {s: c.probe for s, c in row.items() if c.state == "ok" and c.probe and c.probe.count is not None}
    findings: list[str] = []
    counts = {s: p.count for s, p in ok.items()}
    expected = {"bbox": fx.bbox_count, "cql_spatial": fx.polygon_count}.get(endpoint.key)
    if len(set(counts.values())) > 1:
        _flag_minority(row, counts)
        findings.append(f"{endpoint.label}: features returned differ: "
                        + ", ".join(f"{s} {n:,}" for s, n in counts.items())
                        + (f" (SQL count {expected:,})" if expected is not None else ""))
    elif expected is not None and counts and next(iter(counts.values())) != expected:
        findings.append(f"{endpoint.label}: all return {next(iter(counts.values()))}, SQL count {expected}")
    elif endpoint.key.startswith(FEATURE_KEYS) and len(ok) > 1:
        ids = {s: tuple(sorted(map(str, p.ids))) for s, p in ok.items()}
        if len(set(ids.values())) > 1:
            _flag_minority(row, ids)
            findings.append(f"{endpoint.label}: same number of features but different features "
                            f"({', '.join(s for s in ids if row[s].flagged)} differ from the others)")
    matched = {s: p.matched for s, p in ok.items() if p.matched is not None}
    if len(set(matched.values())) > 1:
        findings.append(f"{endpoint.label}: numberMatched differs: "
                        + ", ".join(f"{s} {n:,}" for s, n in matched.items()))
    if endpoint.key == "crs":
        findings += [f"EPSG:9205 coordinates of the same features differ by up to {d:.2f} m between "
                     f"ours and {system}" for system, (d, _) in _crs_offsets(row).items() if d > 0.01]
    if endpoint.key.startswith("mvt"):
        findings += _truncated_tiles(endpoint, row, fx)
    for system, cell in row.items():
        if cell.state == "error" and cell.probe is not None:
            detail = " ".join((cell.probe.error or "").split())[:200]
            findings.append(f"{endpoint.label}: {system} answered HTTP {cell.probe.status}: {detail}")
    return findings


# ------------------------------------------------------------------------------------------ load

def settle(running: dict[str, servers.Server]) -> None:
    """Let the previous load drain: no statement running, no server busy with queued requests."""
    database.wait_idle(ADMIN_URL, DATABASE)
    for server in running.values():
        if server.up:
            servers.wait_quiet(server)


def measure_endpoint(endpoint: Endpoint, running: dict[str, servers.Server], fx: Fixtures,
                     opts: Options) -> tuple[dict[str, Cell], list[str], str | None]:
    """Check the endpoint once on every system, compare them, then load the measurable ones."""
    row: dict[str, Cell] = {}
    requests: dict[str, Request] = {}
    for system in opts.systems:
        request = endpoint.request(system, fx)
        server = running.get(system)
        if request is None:
            row[system] = Cell("—")
        elif server is None or not server.up:
            row[system] = Cell("down")
        else:
            settle(running)
            p = probe(server.base_url, request)
            row[system] = check(endpoint, request, p) or Cell("ok", probe=p)
            requests[system] = request
    findings = compare(endpoint, row, fx)
    for finding in findings:
        print(f"  ! {finding}")
    for system, cell in row.items():
        if cell.state != "ok":
            if cell.state in ("n/a", "error"):
                print(f"  {endpoint.key:12} {system:9} {cell.state} ({cell.note})")
            continue
        settle(running)
        cell.result = run_load(running[system].base_url, requests[system], f"{system}-{endpoint.key}",
                               threads=opts.threads, connections=opts.connections,
                               duration=opts.duration, warmup=opts.warmup)
        r = cell.result
        errors = (f", {r.non_2xx} non-2xx, {r.socket_errors} socket errors"
                  if r.non_2xx or r.socket_errors else "")
        print(f"  {endpoint.key:12} {system:9} {r.rps:9.1f} req/s  p50 {r.p50_ms or 0:8.1f} ms  "
              f"p99 {r.p99_ms or 0:8.1f} ms  ({cell.probe.count if cell.probe else '?'} features{errors})",
              flush=True)
    return row, findings, agreement(endpoint, row)


# ------------------------------------------------------------------------------------------ main

def _wrk_version() -> str:
    out = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)  # noqa: S607
    first = (out.stdout or out.stderr).strip().splitlines()
    return first[0].split()[1] if first and len(first[0].split()) > 1 else "?"


def versions(url: str, opts: Options) -> dict[str, str]:
    """Versions of everything measured."""
    found = {"pygeoapi": systems.package_version("pygeoapi")}
    if "tipg" in opts.systems and systems.TIPG_VENV.exists():
        found["tipg"] = systems.tipg_version()
    found.update(database.server_versions(url))
    found.update({"uvicorn": systems.package_version("uvicorn"), "Python": systems.python_version(),
                  "wrk": _wrk_version()})
    return found


def _estimate(opts: Options, endpoints: list[Endpoint]) -> float:
    cells = sum(len([s for s in opts.systems if s in e.systems]) for e in endpoints)
    return cells * (opts.duration + opts.warmup + 1)


def execute(opts: Options, run: Run, url: str) -> None:
    """Start the servers, measure every endpoint, record RSS; the servers are always stopped."""
    running: dict[str, servers.Server] = {}
    try:
        start_servers(opts, url, running)
        run.failures = {n: s.error or "" for n, s in running.items() if not s.up}
        print(f"· loading: up to {_estimate(opts, run.endpoints) / 60:.1f} min of wrk", flush=True)
        for endpoint in run.endpoints:
            run.cells[endpoint.key], found, passed = measure_endpoint(endpoint, running, run.fixtures, opts)
            run.findings += found
            run.checks += [passed] if passed else []
        for name, server in running.items():
            if server.up:
                run.rss_kb[name] = dict(servers.record_peak_rss(server))
    finally:
        stop_servers(running)
        if running:
            left = database.terminate_backends(ADMIN_URL, DATABASE)
            if left:
                print(f"· ended {left} database sessions left by the stopped servers")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; the table goes to stdout and, for a full run, to docs/benchmarks.md."""
    argv = list(sys.argv[1:] if argv is None else argv)
    opts = parse_args(argv)
    began = time.monotonic()
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, _interrupt)
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    url = database.prepare(ADMIN_URL, DATABASE, opts.scale, reuse=opts.reuse_db)
    load.HEADERS["X-API-Key"] = database.reader_key(url)
    fx = database.fixtures(url)
    print(fixtures_text(fx))
    endpoints = [e for e in ENDPOINTS if not opts.endpoints or e.key in opts.endpoints]
    run = Run(options=opts, fixtures=fx, endpoints=endpoints,
              command=" ".join([".venv/bin/python -m bench.run", *map(shlex.quote, argv)]))
    run.load["start"] = os.getloadavg()[0]
    try:
        execute(opts, run, url)
    except KeyboardInterrupt:
        print("\ninterrupted: servers stopped", file=sys.stderr)
        return 130
    print(f"· SQL floor ({opts.floor_runs} runs max per query, one connection) …", flush=True)
    run.floors = floor.measure(url, fx, [e.key for e in endpoints], runs=opts.floor_runs,
                               budget_s=opts.floor_budget_s)
    run.versions = versions(url, opts)
    run.load["end"] = os.getloadavg()[0]
    run.elapsed_s = time.monotonic() - began
    print(terminal(run))
    if opts.full:
        DOCS.parent.mkdir(parents=True, exist_ok=True)
        DOCS.write_text(docs_page(run), encoding="utf-8")
        print(f"written: {DOCS}")
    else:
        print(f"(a partial run: {DOCS.name} left as it is)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
