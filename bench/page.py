"""``python -m bench.page URL``: how fast the situation view opens in headless Chromium.

Each run opens ``URL/map`` in a fresh browser context (empty cache) and records the time to the
page's load event and to a drawn view (hillshade and boundary tiles loaded, every panel
answered), at a wall-screen and at a laptop size. Loopback; Debian's ``/usr/bin/chromium``.

    python -m bench.page http://127.0.0.1:8000 [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Sequence

SIZES = {"1920×1080": (1920, 1080), "1366×768": (1366, 768)}
READY = "window.IOC && IOC.state && IOC.state.panels && IOC.state.tilesLoaded >= 2"


def measure(base: str, runs: int, chromium: str) -> dict[str, list[tuple[float, float, int]]]:
    """Per screen size: (load event s, drawn s, bytes transferred) of each run."""
    from playwright.sync_api import sync_playwright

    results: dict[str, list[tuple[float, float, int]]] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        for label, (width, height) in SIZES.items():
            results[label] = []
            for _ in range(runs + 1):  # the first run warms the server's caches and is dropped
                context = browser.new_context(viewport={"width": width, "height": height})
                page = context.new_page()
                began = time.perf_counter()
                page.goto(f"{base}/map", wait_until="load")
                loaded = time.perf_counter() - began
                page.wait_for_function(READY, timeout=60_000)
                drawn = time.perf_counter() - began
                size = page.evaluate("performance.getEntriesByType('resource')"
                                     ".reduce((n, e) => n + e.transferSize, 0)")
                results[label].append((loaded, drawn, int(size)))
                context.close()
            results[label] = results[label][1:]
        browser.close()
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """Measure and print one table."""
    parser = argparse.ArgumentParser(prog="python -m bench.page", description=__doc__.splitlines()[0])
    parser.add_argument("url", help="base URL of a running server, e.g. http://127.0.0.1:8000")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args(argv)
    results = measure(args.url.rstrip("/"), args.runs, args.chromium)
    print(f"situation view, {args.runs} runs each, fresh browser context (cold browser cache)")
    print("| screen | load event median / max s | drawn (tiles + panels) median / max s | transferred |")
    print("|---|---|---|---|")
    for label, rows in results.items():
        loads, drawns = [r[0] for r in rows], [r[1] for r in rows]
        print(f"| {label} | {statistics.median(loads):.2f} / {max(loads):.2f} | "
              f"{statistics.median(drawns):.2f} / {max(drawns):.2f} | {rows[0][2] / 1024:.0f} KiB |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
