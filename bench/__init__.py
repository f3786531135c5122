"""Load benchmark of the OGC API: ours against stock pygeoapi and tipg on the same PostGIS data.

Run with ``python -m bench.run`` (or ``make bench``); see ``docs/benchmarks.md``. Nothing here is
part of the test suite: benchmarks measure wall-clock time, tests never do.
"""
