"""``python -m bench.reports``: time to generate each shipped report, beside its anchors.

    python -m bench.reports [--database URL] [--runs 3] [--period 2026-Q3]

In-process on one pooled connection (no HTTP), on a database loaded with the samples (scale 1:
about 107,700 households). For each report: the whole generation (figures, map, file, snapshot
stored) in each format, median of ``--runs``; beside two anchors: computing the figures alone
(the scenario engine over the layers as of the period's end) and drawing the map alone. What is
left is writing the document. Target: the quarterly report in under 10 s.
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
from reports.definitions import definitions
from reports.figures import compute
from reports.maps import choropleth
from reports.snapshot import generate

PERIODS = {"month": "2026-11", "quarter": "2026-Q3", "year": "2025"}


def _median(fn: Callable[[], Any], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main(argv: Sequence[str] | None = None) -> int:
    """Print one line per report and format."""
    parser = argparse.ArgumentParser(prog="python -m bench.reports", description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=os.environ.get("DATABASE_URL") or database_url(name=DATABASE))
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    with raw_cursor(engine_for(args.database)) as cursor:
        cursor.execute("SELECT count(*) FROM housing")
        print(f"households: {cursor.fetchone()[0]:,}; median of {args.runs} runs (s)")
        print(f"{'report':34} {'period':8} {'figures':>8} {'map':>6} {'pdf':>6} {'docx':>6} {'xlsx':>6}")
        for d in definitions().values():
            if d.kind == "incident":
                continue
            period = PERIODS[d.periods[0]]
            content = compute(cursor, d, period)
            figures = _median(lambda d=d, period=period: compute(cursor, d, period), args.runs)
            maps = [s for s in content["sections"] if s["kind"] == "map"]
            drawing = _median(lambda maps=maps: [choropleth(cursor, s) for s in maps], args.runs) \
                if maps else 0.0
            whole = {fmt: _median(lambda d=d, period=period, fmt=fmt: generate(
                cursor, d, period, fmt, "bench"), args.runs) for fmt in ("pdf", "docx", "xlsx")}
            print(f"{d.id:34} {period:8} {figures:8.2f} {drawing:6.2f} {whole['pdf']:6.2f} "
                  f"{whole['docx']:6.2f} {whole['xlsx']:6.2f}")
        cursor.execute("DELETE FROM report_runs WHERE generated_by = 'bench'")
        cursor.connection.commit()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
