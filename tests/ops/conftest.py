"""Scratch PostgreSQL clusters of their own: backups, restores and failovers need a whole cluster."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from gis_core import embedded
from gis_core.backup import Backups
from gis_core.errors import EmbeddedDatabaseError


@pytest.fixture
def scratch_dir() -> Iterator[Path]:
    """A directory the postgres user can reach (tests may run as root); removed after."""
    try:
        embedded.find_pg_bin()
    except EmbeddedDatabaseError as exc:
        pytest.skip(f"PostgreSQL with PostGIS not installed: {exc.message_en}")
    if shutil.which("pgbackrest") is None:
        pytest.skip("pgBackRest not installed (apt-get install pgbackrest)")
    tmp = Path(tempfile.mkdtemp(prefix="ioc-ops-", dir="/tmp"))
    os.chmod(tmp, 0o755)
    try:
        yield tmp
    finally:
        for root in (tmp / "pg", tmp / "standby", tmp / "pg-standby"):
            try:
                embedded.stop(root)
            except EmbeddedDatabaseError:
                pass
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def backups(scratch_dir: Path) -> Backups:
    """A running scratch cluster (initdb'd here) with its pgBackRest backup folder."""
    embedded.start(scratch_dir / "pg")
    return Backups(scratch_dir / "pg", scratch_dir / "backup")
