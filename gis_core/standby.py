"""A hot standby of the embedded cluster by PostgreSQL's streaming replication, and its promotion.

The standby is a ``pg_basebackup`` of the primary in its own folder (``var/pg-standby``), started
like the embedded cluster on its own loopback port, following the primary through a replication
slot. Synchronous mode makes the primary acknowledge a commit only once the standby has it on
disk: a failover then loses no acknowledged write.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import psycopg2

from gis_core import embedded
from gis_core.backup import BackupError, cluster_owner, run_tool

__all__ = ["NAME", "create", "promote", "replication"]

NAME = "ioc_standby"


def create(primary_root: Path, standby_root: Path, *, synchronous: bool = False,
           timeout: float = 300) -> embedded.ClusterStatus:
    """Clone the running primary into ``standby_root`` and start it as a streaming hot standby."""
    primary = embedded.status(primary_root)
    if not primary.running or primary.port is None:
        raise BackupError("CSDL chính chưa chạy; hãy chạy 'ioc db start' trước.",
                          message_en="The primary database is not running; run 'ioc db start'.")
    standby_root = standby_root.absolute()
    if (standby_root / "data" / "PG_VERSION").exists():
        raise BackupError(f"Đã có bản sao dự phòng tại {standby_root}; hãy xoá nó trước khi tạo lại.",
                          message_en=f"A standby already exists at {standby_root}; remove it first.")
    owner = cluster_owner(primary_root / "data")
    standby_root.mkdir(parents=True, exist_ok=True)
    standby_root.chmod(0o700)
    if owner is not None:
        os.chown(standby_root, owner.pw_uid, owner.pw_gid)
    with _connect(primary.url) as conn, conn.cursor() as cur:
        cur.execute("SELECT pg_create_physical_replication_slot(%s) WHERE NOT EXISTS "
                    "(SELECT FROM pg_replication_slots WHERE slot_name = %s)", (NAME, NAME))
    bin_dir = embedded.find_pg_bin()
    run_tool([str(bin_dir / "pg_basebackup"), "-D", str(standby_root / "data"), "-h", "127.0.0.1",
          "-p", str(primary.port), "-U", embedded.SUPERUSER, "-X", "stream", "-S", NAME,
          "-c", "fast", "-R"], owner, what="pg_basebackup")
    auto = standby_root / "data" / "postgresql.auto.conf"
    with auto.open("a", encoding="utf-8") as fh:
        fh.write(f"primary_conninfo = 'host=127.0.0.1 port={primary.port} "
                 f"user={embedded.SUPERUSER} application_name={NAME}'\n"
                 f"primary_slot_name = '{NAME}'\nsynchronous_standby_names = ''\n")
    (standby_root / "data" / "postmaster.pid").unlink(missing_ok=True)
    state = embedded.start(standby_root, db_name=primary.db_name)
    with _connect(primary.url) as conn, conn.cursor() as cur:
        cur.execute("ALTER SYSTEM SET synchronous_standby_names = %s",
                    (f'"{NAME}"' if synchronous else "",))
        cur.execute("SELECT pg_reload_conf()")
        deadline = time.monotonic() + timeout
        want = "sync" if synchronous else "async"
        while replication(primary.url).get("sync_state") != want:
            if time.monotonic() > deadline:
                raise BackupError("Bản sao dự phòng không bắt kịp CSDL chính trong thời hạn.",
                                  message_en="The standby did not catch up with the primary in time.")
            time.sleep(0.2)
    return state


def promote(standby_root: Path, timeout: float = 60) -> embedded.ClusterStatus:
    """Promote the standby to primary (after the old primary is gone: never run both)."""
    state = embedded.status(standby_root)
    if not state.running:
        raise BackupError(f"Bản sao dự phòng tại {standby_root} không chạy.",
                          message_en=f"The standby at {standby_root} is not running.")
    data = standby_root.absolute() / "data"
    run_tool([str(embedded.find_pg_bin() / "pg_ctl"), "-D", str(data), "-w", "-t", str(int(timeout)),
          "promote"], cluster_owner(data), what="pg_ctl promote")
    with _connect(state.url) as conn, conn.cursor() as cur:
        # Alone now: a synchronous setting would make every commit wait for nobody.
        cur.execute("ALTER SYSTEM RESET synchronous_standby_names")
        cur.execute("ALTER SYSTEM RESET primary_conninfo")
        cur.execute("ALTER SYSTEM RESET primary_slot_name")
        cur.execute("SELECT pg_reload_conf()")
    return state


def replication(url: str) -> dict[str, object]:
    """The standby as the primary sees it: state, sync state and replay lag in bytes."""
    with _connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT state, sync_state, pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) "
                    "FROM pg_stat_replication WHERE application_name = %s", (NAME,))
        row = cur.fetchone()
    if row is None:
        return {}
    return {"state": row[0], "sync_state": row[1], "lag_bytes": int(row[2] or 0)}


class _connect:  # noqa: N801 - used like a function in a with statement
    def __init__(self, url: str) -> None:
        self.conn = psycopg2.connect(url, connect_timeout=10)
        self.conn.autocommit = True

    def __enter__(self) -> psycopg2.extensions.connection:
        return self.conn

    def __exit__(self, *exc: object) -> None:
        self.conn.close()
