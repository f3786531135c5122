"""Scheduled backups of the embedded cluster, each verified by a restore, and the last backup on
the operations page.

With ``IOC_SCHEDULED_BACKUPS=true`` the workers take a differential backup every day at 02:00 and
a full one on Sundays at 02:30 (server time), as ``ioc backup diff`` / ``ioc backup full`` do; off
by default, so test and CI workers never take one. An external database (``DATABASE_URL`` on
another host) is backed up on its own host by its administrator: the job then fails, saying so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from gis_core import backup, embedded
from gis_core.settings import Settings
from jobs.operations import add_probe
from jobs.queue import declare

tasks = declare("backups")


def repository(settings: Settings) -> backup.Backups:
    """The pgBackRest backups of the embedded cluster under ``var/pg``."""
    var = Path(settings.var_dir).resolve()
    root = var / "pg"
    if not embedded.status(root).running:
        raise backup.BackupError(
            f"Không có cụm PostgreSQL nhúng đang chạy trong {root}: sao lưu theo lịch chỉ dành cho "
            "cụm nhúng; CSDL ngoài do người quản trị máy CSDL sao lưu.",
            message_en=f"No embedded PostgreSQL cluster running in {root}: scheduled backups are "
            "for the embedded cluster; an external database is backed up on its own host.")
    return backup.Backups(root, var / "backup", key=settings.backup_key,
                          retention_full=settings.backup_retention_full)


def take(kind: str) -> dict[str, Any]:
    """Take a ``kind`` backup (full or diff) and verify it by a restore; the verification."""
    repo = repository(Settings())
    repo.backup(kind)
    return repo.verify()


@tasks.task(name="diff", queueing_lock="backups.take")
def diff(timestamp: int) -> None:
    """A differential backup, verified."""
    take("diff")


@tasks.task(name="full", queueing_lock="backups.take")
def full(timestamp: int) -> None:
    """A full backup, verified."""
    take("full")


def schedule(enabled: bool) -> None:
    """Put the backups on the workers' schedule when ``enabled`` (``IOC_SCHEDULED_BACKUPS``)."""
    if enabled:
        tasks.periodic(cron="0 2 * * 1-6", periodic_id="diff")(diff)
        tasks.periodic(cron="30 2 * * 0", periodic_id="full")(full)


def last_backup(_: Engine) -> dict[str, Any]:
    """The operations page's view of the backups: the last one and its verification."""
    state = backup.status(Settings().var_dir)
    if not state:
        return {"ok": None, "status": "not configured",
                "detail": "Chưa có bản sao lưu / no backup yet"}
    return {"ok": (state.get("verify") or {}).get("ok"), **state}


schedule(Settings().scheduled_backups)
add_probe("backup", last_backup)
