"""Results of a run and their rendering: the markdown table, peak RSS, findings, docs page."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bench.config import SYSTEMS, Options
from bench.database import Fixtures
from bench.endpoints import Endpoint
from bench.floor import Floor
from bench.load import Probe, WrkResult

FLAG = "⚠"


@dataclass
class Cell:
    """One endpoint on one system: measured, not available (n/a), not applicable (—) or failed."""

    state: str  # ok | n/a | — | error | down
    result: WrkResult | None = None
    probe: Probe | None = None
    note: str = ""
    flagged: bool = False


@dataclass
class Run:
    """Everything a run found, for the table and the docs page."""

    options: Options
    fixtures: Fixtures
    endpoints: list[Endpoint]
    cells: dict[str, dict[str, Cell]] = field(default_factory=dict)  # endpoint key → system → cell
    floors: dict[str, Floor] = field(default_factory=dict)
    rss_kb: dict[str, dict[int, int]] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)  # system → why it did not start
    findings: list[str] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)  # cross-checks between systems that passed
    versions: dict[str, str] = field(default_factory=dict)
    command: str = ""
    started: datetime = field(default_factory=datetime.now)
    elapsed_s: float = 0.0
    load: dict[str, float] = field(default_factory=dict)  # 1-min load average: "start", "end"


def _number(value: float) -> str:
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def _rps(cell: Cell | None) -> str:
    if cell is None:
        return "—"
    if cell.state != "ok" or cell.result is None:
        return cell.state if cell.state != "error" else f"error {cell.note}".strip()
    if cell.result.requests == 0:
        return "0 (none completed)"
    text = _number(cell.result.rps)
    if cell.result.non_2xx or cell.result.socket_errors:
        text += f" ({cell.result.non_2xx + cell.result.socket_errors} err)"
    return f"{text} {FLAG}" if cell.flagged else text


def _ratio(a: Cell | None, b: Cell | None) -> str:
    if not (a and b and a.result and b.result and a.state == b.state == "ok"):
        return "—"
    if a.result.requests == 0 or b.result.requests == 0 or b.result.rps <= 0:
        return "—"
    return f"{a.result.rps / b.result.rps:.1f}×"


def _latency(cell: Cell | None) -> str:
    if cell is None or cell.state != "ok" or cell.result is None or cell.result.p50_ms is None:
        return "—"
    if cell.result.requests == 0:
        return "> run length"
    p99 = cell.result.p99_ms if cell.result.p99_ms is not None else float("nan")
    return f"{cell.result.p50_ms:.1f} / {p99:.1f}"


def _features(row: dict[str, Cell]) -> str:
    counts = {s: c.probe.count for s, c in row.items()
              if c.probe and c.probe.ok and c.probe.count is not None}
    if not counts:
        return "—"
    if len(set(counts.values())) == 1:
        return f"{next(iter(counts.values())):,}"
    return " / ".join(f"{s} {n:,}" for s, n in counts.items())


def _floor(floor: Floor | None) -> str:
    return "—" if floor is None else f"{floor.ms:.2f} ({_number(floor.rps)}/s)"


def table(run: Run) -> str:
    """The results as one markdown table."""
    header = ["endpoint", "features", *(f"{s} req/s" for s in SYSTEMS), "ours/pygeoapi", "ours/tipg",
              "ours uncached/tipg", *(f"{s} p50 / p99 ms" for s in SYSTEMS), "SQL floor ms (1-conn req/s)"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for endpoint in run.endpoints:
        row = run.cells.get(endpoint.key, {})
        cells = [endpoint.label, _features(row), *(_rps(row.get(s)) for s in SYSTEMS),
                 _ratio(row.get("ours"), row.get("pygeoapi")), _ratio(row.get("ours"), row.get("tipg")),
                 _ratio(row.get("ours_uncached"), row.get("tipg")),
                 *(_latency(row.get(s)) for s in SYSTEMS), _floor(run.floors.get(endpoint.key))]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def rss_table(run: Run) -> str:
    """Peak RSS (VmHWM) per worker process, per system."""
    lines = ["| system | workers | peak RSS per worker (max VmHWM) | each worker |", "|---|---|---|---|"]
    for system in SYSTEMS:
        workers = run.rss_kb.get(system)
        if not workers:
            state = "did not start" if system in run.failures else "—"
            lines.append(f"| {system} | — | {state} | — |")
            continue
        each = ", ".join(f"{kb / 1024:.0f}" for kb in sorted(workers.values()))
        lines.append(f"| {system} | {len(workers)} | {max(workers.values()) / 1024:.0f} MiB | {each} MiB |")
    return "\n".join(lines)


def fixtures_text(fx: Fixtures) -> str:
    """The request parameters chosen from the data, with the feature counts they select."""
    tiles = ", ".join(f"z{z} {x}/{y} ({n:,} households)" for z, (x, y, n) in fx.tiles.items())
    return "\n".join([
        f"- households: {fx.households:,}; densest cluster at {fx.centre[0]}, {fx.centre[1]}",
        f"- bbox {','.join(f'{v:.6f}' for v in fx.bbox)}: {fx.bbox_count} households (SQL count)",
        f"- spatial filter polygon {fx.polygon_wkt}: {fx.polygon_count} households (SQL count)",
        f"- single feature id {fx.feature_id}",
        f"- tiles over the densest commune, {fx.commune}: {tiles}",
    ])


def machine() -> dict[str, str]:
    """CPU count, memory and CPU model of this machine."""
    mem_kb = 0
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"nproc": str(os.cpu_count()), "RAM": f"{mem_kb / 1024 / 1024:.1f} GiB", "CPU": model,
            "kernel": platform.release()}


def terminal(run: Run) -> str:
    """What the run prints at its end."""
    parts = ["", table(run), "", "Peak RSS per worker:", "", rss_table(run), ""]
    if run.findings:
        parts += ["Correctness findings:", *(f"- {f}" for f in run.findings), ""]
    if run.checks:
        parts += ["Cross-checks passed:", *(f"- {c}" for c in run.checks), ""]
    if run.failures:
        parts += ["Did not start:", *(f"- {s}: {why}" for s, why in run.failures.items()), ""]
    parts.append(f"Load average (1 min): {run.load.get('start', 0):.1f} at the start, "
                 f"{run.load.get('end', 0):.1f} at the end")
    parts.append(f"Total run time: {run.elapsed_s / 60:.1f} min")
    return "\n".join(parts)


_METHOD = """\
- All servers run at once on the same machine as PostgreSQL and wrk, each under uvicorn
  with {workers} workers, uvloop and httptools, uvicorn's default logging (access log on).
  `ours` is `ioc serve`; `ours_uncached` is the same with its tile cache off
  (`IOC_TILE_CACHE_MB=0`, tiles only), so every tile is drawn by PostGIS on every request;
  `pygeoapi` is the stock package with its `PostgreSQL` feature provider
  and `MVT-postgresql` tile provider; `tipg` is the latest tipg from PyPI in its own venv.
  pygeoapi and tipg publish only the layers' public fields, as ours does (pygeoapi's
  `properties`, tipg's `TIPG_TABLE_CONFIG__…__properties`); pygeoapi's MVT provider has no
  such option and puts every column in its tiles.
- Each cell: `wrk -t{threads} -c{connections} -d{duration}s --latency --timeout 30s` after a
  {warmup} s warm-up, header `Accept: application/geo+json, application/json;q=0.9`
  (`application/vnd.mapbox-vector-tile` for tiles). GeoJSON is asked for explicitly:
  `f=json` for ours and pygeoapi, `f=geojson` for tipg (its `f=json` is a flat array of rows, not
  a FeatureCollection). CQL2 text for ours and tipg; pygeoapi takes `filter-lang=cql-text` and
  writes `INTERSECTS(...)`.
- Before loading, every URL is fetched once: it must answer 200, and the number of features
  (decoded MVT features for tiles) is compared between systems; {flag} marks a cell whose
  count (or feature ids) differs from a peer's, or a tile holding fewer features than the
  households inside it. `n/a`: the system does not offer the request (404 or 405, 400 for a
  tile, or `crs` ignored); `—`: not applicable.
- Between cells the run waits until no statement runs on the bench database and no server
  process uses CPU, so a slow cell's backlog does not spill into the next one. The bench
  database has `statement_timeout = 15s` for every session, ours' own default
  (`IOC_STATEMENT_TIMEOUT_MS`), so a runaway query ends as HTTP 500 rather than load the machine.
- SQL floor: the same page built by PostGIS alone (`json_build_object` / `ST_AsGeoJSON`, same
  filter, limit, offset and `numberMatched` count, features built after `LIMIT`/`OFFSET`;
  `ST_AsMVT` with three properties for tiles, rows picked in a `MATERIALIZED` CTE so that the
  GiST index is used), timed over up to {runs} runs (at least 10, about 4 s each) on one
  psycopg2 connection with the servers stopped.
- Peak RSS: the largest VmHWM among each server's worker processes (children of the uvicorn
  master), read from /proc at the end of the load.
- 2 cores are shared by the server under load, PostgreSQL and wrk: absolute numbers are low and
  ratios between systems are what carries over."""


_PEER_NOTES = """\
Causes behind the peers' n/a and error cells, traced while writing this benchmark (pygeoapi 0.21.0,
tipg 1.6.1); the findings above are recomputed by every run, these notes are not:

- pygeoapi `MVT-postgresql` reprojects with `ST_Transform(geom, 'EPSG:3857')`, the text-CRS form,
  which sets PROJ up again for every feature (about 35 ms per point here against well under 1 ms
  with an SRID): a z14 tile of 1,553 households needs about a minute, so every tile over the dense
  commune ends at the 15 s statement timeout as HTTP 500. Its provider also hands every non-dict
  `options` entry to a cached engine factory, so the documented `schemes:` list makes it fail at
  start-up (TypeError: unhashable type: 'list'); the bench leaves it out.
- pygeoapi's spatial CQL filter with `storage_crs` CRS84 writes the literal as EWKT
  `SRID=CRS84;POLYGON(...)`, which PostGIS rejects: HTTP 500.
- pygeoapi's PostgreSQL provider sorts nothing unless asked (`sortby`), so an offset page
  follows the table's physical order (here still the id order, the table being freshly loaded).
- tipg has no `crs` parameter (it answers in CRS84 whatever is asked) and caps a tile at
  `TIPG_MAX_FEATURES_PER_TILE` (10,000) features.
- tipg refreshes its catalog 300 s after start-up by default, from a request; until a refresh
  has finished, every request starts another one (extents over all rows). Under 16 connections
  this sank whichever cell ran about five minutes in (CQL2 spatial fell from ~35-68 to 3 req/s),
  so the bench runs tipg with `TIPG_CATALOG_TTL=0`; ours and pygeoapi never re-read their
  catalog while serving."""


def docs_page(run: Run) -> str:
    """The whole ``docs/benchmarks.md``."""
    m = machine()
    o = run.options
    versions = ", ".join(f"{k} {v}" for k, v in run.versions.items())
    parts = [
        "# Benchmarks", "",
        "OGC API Features and Tiles served by this platform (`ours`), by stock pygeoapi and by "
        "tipg, on the same PostGIS tables. Regenerated by every full run of `make bench` "
        "(`python -m bench.run`); do not edit by hand.", "",
        f"- date: {run.started:%Y-%m-%d %H:%M}",
        f"- machine: {m['nproc']} CPUs ({m['CPU']}), {m['RAM']} RAM, Linux {m['kernel']}; "
        f"1-min load average {run.load.get('start', 0):.1f} at the start, "
        f"{run.load.get('end', 0):.1f} at the end",
        f"- versions: {versions}",
        f"- data: sample scale {o.scale:g}; {run.fixtures.households:,} households",
        f"- command: `{run.command}` (total {run.elapsed_s / 60:.1f} min)", "",
        "## Results", "", table(run), "", "Peak RSS per worker:", "", rss_table(run), "",
        "Request parameters (chosen from the data):", "", fixtures_text(run.fixtures), "",
    ]
    if run.findings:
        parts += ["## Correctness findings", "", *(f"- {f}" for f in run.findings), ""]
    if run.checks:
        parts += ["Cross-checks that passed (same answers before loading):", "",
                  *(f"- {c}" for c in run.checks), ""]
    if run.failures:
        parts += ["## Did not start", "",
                  *(f"- {s}: {why.splitlines()[0] if why else '?'}" for s, why in run.failures.items()), ""]
    parts += [
        "## Notes on the peers", "", _PEER_NOTES, "",
        "## Method", "",
        _METHOD.format(workers=o.workers, threads=o.threads, connections=o.connections,
                       duration=o.duration, warmup=o.warmup, runs=o.floor_runs, flag=FLAG), "",
        "## How to reproduce", "",
        "```sh",
        "make bench                                   # = .venv/bin/python -m bench.run",
        ".venv/bin/python -m bench.run --reuse-db     # keep ioc_bench when built at the same scale",
        ".venv/bin/python -m bench.run --only ours,tipg --endpoints items10,bbox --duration 5",
        "```", "",
        "Needs PostgreSQL + PostGIS at `IOC_BENCH_ADMIN_URL` (default "
        "`postgresql://postgres@127.0.0.1:5432/postgres`; the run creates the database `ioc_bench`), "
        "`wrk`, and network access to PyPI the first time (tipg goes into `var/bench/tipg-venv`). "
        "Server logs, the pygeoapi configuration and its OpenAPI document are left under `var/bench/`. "
        "Only a run of every system and endpoint rewrites this page.", "",
    ]
    from bench.scale import kept_section

    if kept := kept_section():  # the growth section of `make bench-scale` stays as it is
        parts.append(kept)
    return "\n".join(parts)
