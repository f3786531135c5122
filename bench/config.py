"""Paths, defaults and the options of one benchmark run."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VAR = ROOT / "var" / "bench"
VENV_BIN = Path(sys.executable).parent
DOCS = ROOT / "docs" / "benchmarks.md"

ADMIN_URL = os.environ.get("IOC_BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DATABASE = os.environ.get("IOC_BENCH_DATABASE", "ioc_bench")
# ``ours_uncached`` is ours with its tile cache off (tiles only): tiles drawn on every request.
SYSTEMS = ("ours", "ours_uncached", "pygeoapi", "tipg")
HOST = "127.0.0.1"


@dataclass(frozen=True)
class Options:
    """What one run measures, from the command line."""

    scale: float = 2.0
    duration: int = 10
    warmup: int = 2
    connections: int = 16
    threads: int = 2
    workers: int = 2
    reuse_db: bool = False
    systems: tuple[str, ...] = SYSTEMS
    endpoints: tuple[str, ...] = ()
    floor_runs: int = 300
    floor_budget_s: float = 4.0

    @property
    def full(self) -> bool:
        """Every system and every endpoint: only such a run rewrites ``docs/benchmarks.md``."""
        return self.systems == SYSTEMS and not self.endpoints


def database_url(admin_url: str = ADMIN_URL, name: str = DATABASE) -> str:
    """The URL of database ``name`` on the server of ``admin_url``."""
    return admin_url.rsplit("/", 1)[0] + "/" + name
