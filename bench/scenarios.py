"""``python -m bench.scenarios``: the scenario engine's latency beside its raw-SQL anchors.

    python -m bench.scenarios [--database URL] [--runs 30]

Runs in-process on one pooled connection (no HTTP), on a database loaded with the samples
(``ioc samples load`` at scale 1: about 107,700 households). Each case is timed warm, median and
90th percentile of ``--runs`` runs, beside an anchor: the SQL that PostGIS alone needs for the same
figures (hand-written for the radius; for the commune and province cases, the engine's own
aggregate queries run back to back, i.e. the database floor of the evaluation). The ratio says
how much the engine adds on top: targets, statuses, trends, drill-down and the JSON.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

from bench.config import DATABASE, database_url
from gis_core.db import engine_for, raw_cursor
from governance.access import CURRENT, Principal
from scenarios.engine import Request, evaluate, measure_statements
from scenarios.indicators import INDICATORS
from scenarios.registry import require_scenario
from scenarios.selection import CommuneSelection, ProvinceSelection, RadiusSelection, resolve

RADIUS_M = 5000
_RADIUS_ANCHOR = (
    "SELECT f.commune_code, count(*), sum(f.members), count(*) FILTER (WHERE f.poverty_status = "
    "'poor'), count(*) FILTER (WHERE f.poverty_status = 'near_poor'), count(*) FILTER (WHERE "
    "f.house_type = 'temporary') FROM housing f WHERE ST_DWithin(f.geom::geography, "
    "ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography, %(r)s) GROUP BY 1"
)


def _time(fn: Callable[[], Any], runs: int) -> tuple[float, float]:
    fn()  # warm: plans, caches
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(0.9 * len(times)))]


def _densest(cursor: Any) -> tuple[float, float, str]:
    """The centre of the densest 0.01° cell of households and the commune with most households."""
    cursor.execute("SELECT round(ST_X(geom)::numeric, 2), round(ST_Y(geom)::numeric, 2), count(*) "
                   "FROM housing GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 1")
    lon, lat, _ = cursor.fetchone()
    cursor.execute("SELECT commune_code FROM housing GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
    return float(lon), float(lat), cursor.fetchone()[0]


def cases(cursor: Any) -> list[tuple[str, Callable[[], Any], Callable[[], Any]]]:
    """(label, engine run, anchor run) of every measured case."""
    lon, lat, commune = _densest(cursor)
    radius = {"type": "radius", "lon": lon, "lat": lat, "radius_m": RADIUS_M}
    welfare = require_scenario(cursor, "sector_social_welfare")
    sectors = [require_scenario(cursor, f"sector_{s}") for s in (
        "health", "education", "transport", "environment", "public_order", "social_welfare")]

    def radius_engine() -> None:
        welfare.run(cursor, {"selection": radius})

    def radius_anchor() -> None:
        cursor.execute(_RADIUS_ANCHOR, {"lon": lon, "lat": lat, "r": RADIUS_M})
        cursor.fetchall()

    def commune_engine() -> None:
        for scenario in sectors:
            scenario.run(cursor, {"selection": {"type": "communes", "codes": [commune]}})

    def floor_of(selection: Any) -> Callable[[], None]:
        area = resolve(cursor, selection)
        needed = {m for i in INDICATORS if i.kind == "computed" for m in i.measures}
        statements = measure_statements(area, needed)

        def run() -> None:
            for _, statement in statements:
                cursor.execute(statement, area.params)
                cursor.fetchall()

        return run

    def province_engine() -> None:
        area = resolve(cursor, ProvinceSelection(type="province"))
        evaluate(cursor, Request(INDICATORS, area, "2025", "commune"))

    return [
        (f"radius {RADIUS_M} m, social welfare, by commune ({lon}, {lat})", radius_engine,
         radius_anchor),
        (f"one commune ({commune}), all six sector scenarios", commune_engine,
         floor_of(CommuneSelection(type="communes", codes=[commune]))),
        (f"province, all {len(INDICATORS)} indicators × 38 communes", province_engine,
         floor_of(ProvinceSelection(type="province"))),
        (f"radius {RADIUS_M} m, all six sector scenarios", lambda: [
            s.run(cursor, {"selection": radius}) for s in sectors],
         floor_of(RadiusSelection(type="radius", lon=lon, lat=lat, radius_m=RADIUS_M))),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Print the table of engine and anchor times."""
    parser = argparse.ArgumentParser(prog="python -m bench.scenarios", description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=os.environ.get("DATABASE_URL") or database_url(name=DATABASE))
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args(argv)
    # A signed-in caller: the drill-down to households is part of the work measured.
    CURRENT.set(Principal(username="bench", role="leader"))
    with raw_cursor(engine_for(args.database)) as cursor:
        cursor.execute("SELECT count(*) FROM housing")
        households = cursor.fetchone()[0]
        print(f"households: {households:,}; runs per case: {args.runs}; load average "
              f"{os.getloadavg()[0]:.1f}")
        print("| case | engine p50 / p90 ms | anchor (raw SQL) p50 / p90 ms | engine/anchor |")
        print("|---|---|---|---|")
        for label, engine_run, anchor_run in cases(cursor):
            e50, e90 = _time(engine_run, args.runs)
            a50, a90 = _time(anchor_run, args.runs)
            print(f"| {label} | {e50:.1f} / {e90:.1f} | {a50:.1f} / {a90:.1f} | {e50 / a50:.2f}× |",
                  flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
