"""``ioc backup`` and ``ioc restore`` as an operator runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _ioc(*args: str, var: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith("PG") and k not in ("DATABASE_URL", "IOC_DATABASE_URL")}
    return subprocess.run([sys.executable, "-m", "api.cli", *args], cwd=ROOT, text=True,
                          capture_output=True, env={**clean, "IOC_VAR_DIR": str(var), **env},
                          timeout=600, check=False)


def test_backup_then_status_through_the_command(scratch_dir: Path) -> None:
    var = scratch_dir
    assert _ioc("db", "start", var=var).returncode == 0
    done = _ioc("backup", var=var)
    assert done.returncode == 0, done.stderr
    assert "Đã sao lưu" in done.stdout and "Đã kiểm chứng" in done.stdout
    state = json.loads(_ioc("backup", "status", var=var).stdout)
    assert state["verify"]["ok"] is True
    assert state["verify"]["label"] == state["backup"]["label"]
    listed = _ioc("backup", "list", var=var).stdout
    assert state["backup"]["label"] in listed and " full " in listed


def test_bad_time_and_external_database_are_one_clear_line(scratch_dir: Path) -> None:
    bad = _ioc("restore", "--to-time", "hôm qua", var=scratch_dir)
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1
    assert "RFC 3339" in bad.stderr
    naive = _ioc("restore", "--to-time", "2026-07-01T03:00:00", var=scratch_dir)
    assert naive.returncode == 1 and "múi giờ" in naive.stderr
    external = _ioc("backup", var=scratch_dir, DATABASE_URL="postgresql://db.example/ioc")
    assert external.returncode == 1 and external.stderr.count("\n") == 1
    assert "docs/reliability.md" in external.stderr
