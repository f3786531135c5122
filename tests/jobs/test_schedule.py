"""The scheduled jobs a worker knows (as ``ioc worker`` builds them, from the composition root):
the daily reports always, the backups only with IOC_SCHEDULED_BACKUPS; and the last backup on the
operations page."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import ROOT

LIST = """
import json
import api.app  # noqa: F401 - what the worker imports
from jobs.queue import _BLUEPRINTS
print(json.dumps(sorted(f"{ns}:{key[0]} {p.cron}" for ns, bp in _BLUEPRINTS.items()
                        for key, p in bp.periodic_registry.periodic_tasks.items())))
"""


def _schedule(**env: str) -> list[str]:
    clean = {k: v for k, v in os.environ.items() if k != "IOC_SCHEDULED_BACKUPS"}
    out = subprocess.run([sys.executable, "-c", LIST], cwd=ROOT, env={**clean, **env},
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_backups_are_scheduled_only_when_asked():
    default = _schedule()
    assert "reports:due 30 6 * * *" in default
    assert "exports:expire 17 * * * *" in default
    assert "feedback:sweep 7 * * * *" in default
    assert not any(s.startswith("backups:") for s in default)
    on = _schedule(IOC_SCHEDULED_BACKUPS="true")
    assert {"backups:diff 0 2 * * 1-6", "backups:full 30 2 * * 0"} <= set(on)


def test_the_operations_page_shows_the_last_backup(tmp_path, monkeypatch):
    from jobs.backups import last_backup

    monkeypatch.setenv("IOC_VAR_DIR", str(tmp_path))
    assert last_backup(None)["status"] == "not configured"
    (tmp_path / "backup").mkdir()
    (tmp_path / "backup" / "status.json").write_text(json.dumps({
        "backup": {"label": "20261207-020001F", "kind": "full"},
        "verify": {"label": "20261207-020001F", "ok": True, "tables": 40}}))
    shown = last_backup(None)
    assert shown["ok"] is True and shown["backup"]["label"] == "20261207-020001F"
