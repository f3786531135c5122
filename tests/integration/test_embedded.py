"""Integration test: a real private PostgreSQL + PostGIS cluster survives stop/start."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from gis_core import embedded
from gis_core.errors import EmbeddedDatabaseError


@pytest.fixture
def cluster_root() -> Iterator[Path]:
    """A fresh directory the postgres user can reach; the cluster is always stopped after."""
    try:
        embedded.find_pg_bin()
    except EmbeddedDatabaseError as exc:
        pytest.skip(f"PostgreSQL with PostGIS not installed: {exc.message_en}")
    tmp = Path(tempfile.mkdtemp(prefix="ioc-pg-", dir="/tmp"))
    os.chmod(tmp, 0o755)
    root = tmp / "pg"
    try:
        yield root
    finally:
        try:
            embedded.stop(root)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def _psql(url: str, sql: str) -> str:
    """Run one SQL command through psql against ``url`` and return its unaligned output."""
    psql = embedded.find_pg_bin() / "psql"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    proc = subprocess.run(  # noqa: S603 - fixed binary, no shell
        [str(psql), "-X", "-At", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_cluster_persists_data_and_port_across_restart(cluster_root: Path) -> None:
    """Start, write a row, stop, start again: same port, row still there."""
    first = embedded.start(cluster_root)
    assert first.initialised and first.running
    assert first.port is not None and first.pid is not None
    assert embedded.status(cluster_root) == first
    assert first.url == f"postgresql://postgres@127.0.0.1:{first.port}/ioc"

    assert _psql(first.url, "SELECT postgis_version()")
    _psql(first.url, "CREATE TABLE probe (id int PRIMARY KEY, name text)")
    _psql(first.url, "INSERT INTO probe VALUES (1, 'Lai Châu')")

    # Starting a running cluster is a no-op.
    assert embedded.start(cluster_root).pid == first.pid

    assert embedded.stop(cluster_root) is True
    stopped = embedded.status(cluster_root)
    assert stopped.initialised and not stopped.running
    assert stopped.pid is None and stopped.port == first.port
    assert embedded.stop(cluster_root) is False

    second = embedded.start(cluster_root)
    assert second.running and second.port == first.port
    assert _psql(second.url, "SELECT name FROM probe WHERE id = 1") == "Lai Châu"
