"""Backups of the embedded cluster with pgBackRest, each one restored and compared.

Layout under the backup folder (``var/backup``): ``pgbackrest.conf``, ``repo/`` (pgBackRest's
repository: full and differential backups and the archived WAL), ``points/<label>.json`` (per
table row counts and checksums at the restore point taken right after each backup),
``status.json`` (the last backup and the last verification, read by :func:`status`).

A backup's *point* is a named restore point created while every table of the application
database is share-locked, so the checksums recorded there are exactly the state a recovery to that
point gives; `verify` restores the backup into a scratch data directory, recovers to the point,
starts it on a spare port and compares.
"""

from __future__ import annotations

import json
import os
import pwd
import random
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg2
import psycopg2.errors

from gis_core import embedded
from gis_core.errors import IocError

__all__ = ["BackupError", "Backups", "checksums", "status"]

STANZA = "ioc"
_PGBACKREST = "pgbackrest"


class BackupError(IocError):
    """A backup, verification or restore that failed; the message says what to do."""

    status_code = 500


@dataclass(frozen=True)
class Backups:
    """pgBackRest over one embedded cluster (``root``) and one backup folder."""

    root: Path
    folder: Path
    db_name: str = embedded.DEFAULT_DB
    key: str | None = None
    retention_full: int = 2

    # --- configuration -------------------------------------------------------------------------

    @property
    def data(self) -> Path:
        """The cluster's data directory."""
        return self.root.absolute() / "data"

    @property
    def conf(self) -> Path:
        """pgBackRest's configuration file for this cluster."""
        return self.folder.absolute() / "pgbackrest.conf"

    def url(self) -> str:
        """The application database of the running cluster."""
        return embedded.status(self.root, db_name=self.db_name).url

    def configure(self) -> None:
        """Write pgBackRest's configuration, turn WAL archiving to it on, create the stanza."""
        state = embedded.status(self.root, db_name=self.db_name)
        if not state.running or state.port is None:
            raise BackupError(
                f"Cụm PostgreSQL tại {self.root} chưa chạy; hãy chạy 'ioc db start' trước.",
                message_en=f"The PostgreSQL cluster at {self.root} is not running; run "
                "'ioc db start' first.")
        if shutil.which(_PGBACKREST) is None:
            raise BackupError("Chưa cài pgBackRest; hãy chạy: apt-get install pgbackrest",
                              message_en="pgBackRest is not installed; run: apt-get install "
                              "pgbackrest")
        self._write_conf(state.port)
        owner = cluster_owner(self.data)
        archive = self.data / embedded.ARCHIVE_CONF
        command = f"{shutil.which(_PGBACKREST)} --config={self.conf} --stanza={STANZA} archive-push %p"
        archive.write_text("# Written by gis_core.backup: WAL goes to pgBackRest.\n"
                           f"archive_command = '{command}'\n", encoding="utf-8")
        if owner is not None:
            os.chown(archive, owner.pw_uid, owner.pw_gid)
        with _connect(state.url) as conn, conn.cursor() as cur:
            cur.execute("SELECT pg_reload_conf()")
            cur.execute("SHOW archive_mode")
            mode = cur.fetchone()[0]
        if mode == "off":
            raise BackupError(
                "Lưu trữ WAL chưa bật (archive_mode=off); hãy khởi động lại CSDL: "
                "'ioc db stop' rồi 'ioc db start', rồi chạy lại.",
                message_en="WAL archiving is off (archive_mode=off); restart the database "
                "('ioc db stop', then 'ioc db start') and run again.")
        self._pgbackrest("stanza-create")

    def _write_conf(self, port: int) -> None:
        """pgBackRest's configuration file, readable by the cluster's owner only."""
        folder = self.folder.absolute()
        for sub in ("repo", "log", "lock", "spool", "points"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        lines = ["[global]", f"repo1-path={folder / 'repo'}",
                 f"repo1-retention-full={self.retention_full}", f"log-path={folder / 'log'}",
                 f"lock-path={folder / 'lock'}", f"spool-path={folder / 'spool'}",
                 "log-level-console=warn", "log-level-file=info", "start-fast=y",
                 "compress-type=lz4"]
        if self.key:
            lines += ["repo1-cipher-type=aes-256-cbc", f"repo1-cipher-pass={self.key}"]
        lines += [f"[{STANZA}]", f"pg1-path={self.data}", f"pg1-port={port}",
                  f"pg1-socket-path={self.root.absolute()}", f"pg1-user={embedded.SUPERUSER}"]
        self.conf.write_text("\n".join(lines) + "\n", encoding="utf-8")
        self.conf.chmod(0o600)
        owner = cluster_owner(self.data)
        if owner is not None:  # archive-push runs as the server's user
            for path in [folder, *folder.iterdir()]:
                os.chown(path, owner.pw_uid, owner.pw_gid)

    # --- backup --------------------------------------------------------------------------------

    def backup(self, kind: str = "full") -> dict[str, Any]:
        """Take a full or differential backup, then mark its point; return the record."""
        if kind not in ("full", "diff"):
            raise BackupError(f"Kiểu sao lưu không hợp lệ: {kind!r} (full hoặc diff).",
                              message_en=f"Invalid backup type: {kind!r} (full or diff).")
        self.configure()
        started = time.monotonic()
        self._pgbackrest("backup", f"--type={kind}")
        labels = [b["label"] for b in self.info()]
        for stale in (self.folder / "points").glob("*.json"):
            if stale.stem not in labels:  # expired by the retention policy
                stale.unlink()
        record = self.mark_point(labels[-1])
        record.update(kind=kind, seconds=round(time.monotonic() - started, 2))
        self._write_point(record)
        self._update_status(backup=record)
        return record

    def mark_point(self, label: str, attempts: int = 60) -> dict[str, Any]:
        """Create the restore point named after ``label`` and record the tables there.

        Taking the table locks one by one can deadlock with a writer that already holds one of
        them: this side gives way (a short deadlock_timeout makes it the one that yields) and
        tries again, so no writer fails because of a backup.
        """
        for attempt in range(attempts):
            try:
                return self._mark_point(label)
            except (psycopg2.errors.DeadlockDetected, psycopg2.errors.LockNotAvailable):
                if attempt == attempts - 1:
                    raise
                time.sleep(min(1.0, 0.1 * (attempt + 1)) * random.uniform(0.5, 1.5))
        raise AssertionError("unreachable")

    def _mark_point(self, label: str) -> dict[str, Any]:
        url = self.url()
        with _connect(url) as conn:
            conn.autocommit = False
            with conn.cursor() as cur:
                cur.execute("SET LOCAL lock_timeout = '30s'")
                cur.execute("SET LOCAL deadlock_timeout = '20ms'")
                tables = _tables(cur)
                names = ", ".join(_quoted(t) for t in tables)
                # Writers wait (not fail) while the point's checksums are taken.
                cur.execute(f"LOCK TABLE {names} IN SHARE MODE")  # noqa: S608 - catalog names
                sums = _checksums(cur, tables)
                cur.execute("SELECT pg_create_restore_point(%s), now()", (label,))
                lsn, at = cur.fetchone()
            conn.commit()
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("SELECT pg_switch_wal()")
        self._wait_archived(url, lsn)
        return {"label": label, "point_lsn": lsn, "point_time": at.isoformat(),
                "database": self.db_name, "tables": sums}

    def info(self) -> list[dict[str, Any]]:
        """The backups in the repository, oldest first (pgBackRest's own listing)."""
        out = self._pgbackrest("info", "--output=json")
        stanzas = json.loads(out or "[]")
        return [{"label": b["label"], "type": b["type"],
                 "start": datetime.fromtimestamp(b["timestamp"]["start"], UTC).isoformat(),
                 "stop": datetime.fromtimestamp(b["timestamp"]["stop"], UTC).isoformat(),
                 "size": b["info"]["size"], "repo_size": b["info"]["repository"]["delta"]}
                for s in stanzas for b in s.get("backup", [])]

    # --- verify and restore --------------------------------------------------------------------

    def verify(self, label: str | None = None) -> dict[str, Any]:
        """Restore a backup (the latest by default) into a scratch cluster and compare."""
        label = label or self._latest_point()
        try:
            expected = json.loads((self.folder / "points" / f"{label}.json").read_text("utf-8"))
        except FileNotFoundError:
            raise BackupError(f"Không có điểm khôi phục ghi lại cho bản sao lưu {label}.",
                              message_en=f"No recorded restore point for backup {label}.") from None
        started = time.monotonic()
        with self.scratch() as scratch:
            self.restore_into(scratch, ["--type=name", f"--target={label}", f"--set={label}",
                                        "--target-action=promote"])
            restored = time.monotonic() - started
            with _connect(self.start_scratch(scratch)) as conn, conn.cursor() as cur:
                actual = _checksums(cur, list(expected["tables"]))
        differ = sorted(t for t, v in expected["tables"].items() if actual.get(t) != v)
        result = {"label": label, "ok": not differ, "tables": len(expected["tables"]),
                  "rows": sum(v[0] for v in expected["tables"].values()), "differ": differ,
                  "restore_seconds": round(restored, 2),
                  "seconds": round(time.monotonic() - started, 2),
                  "at": datetime.now(UTC).isoformat()}
        self._update_status(verify=result)
        if differ:
            raise BackupError(
                f"Bản sao lưu {label} KHÔNG khớp sau khi khôi phục: {', '.join(differ[:5])}.",
                message_en=f"Backup {label} does NOT match after restore: {', '.join(differ[:5])}.")
        return result

    def restore_into(self, target: Path, options: Sequence[str]) -> None:
        """Restore into an empty data directory ``target`` with archiving off."""
        self._pgbackrest("restore", f"--pg1-path={target}", "--archive-mode=off", *options)

    def restore_to_time(self, when: datetime | None, into: Path | None = None) -> Path | None:
        """Point-in-time recovery to ``when`` (None: the latest archived state): into a new
        data directory, or in place.

        In place, the cluster is stopped and its data directory kept beside as
        ``data.before-restore-<time>`` (returned; None when there was none); the recovered
        cluster starts on the same port.
        """
        state = embedded.status(self.root, db_name=self.db_name)
        if state.running:
            self.configure()
            with _connect(state.url) as conn, conn.cursor() as cur:
                # A commit after the target lets recovery see that it went far enough.
                cur.execute("SELECT txid_current()")
                cur.execute("SELECT pg_switch_wal()")
                lsn = cur.fetchone()[0]
            self._wait_archived(state.url, lsn)
        else:  # the server is gone (a failed disk, a new machine): paths as they are here
            self._write_conf(state.port or 5432)
        options = ["--type=default"]  # no time: every archived WAL segment (the latest state)
        if when is not None:
            target = "--target=" + when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f+00")
            options = ["--type=time", target, *self._set_before(when), "--target-action=promote"]
        if into is not None:
            self.restore_into(into, options)
            return into
        embedded.stop(self.root)
        kept = self.data.with_name("data.before-restore-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%S"))
        if self.data.exists():
            self.data.rename(kept)
        else:
            kept = None
        self.data.mkdir(mode=0o700, parents=True)
        owner = cluster_owner(kept or self.root)
        if owner is not None:
            os.chown(self.data, owner.pw_uid, owner.pw_gid)
        self._pgbackrest("restore", *options)
        log = self.root.absolute() / "server.log"
        offset = log.stat().st_size if log.exists() else 0
        state = embedded.start(self.root, db_name=self.db_name)
        _wait_promoted(state.url, log, offset)
        with _connect(state.url) as conn, conn.cursor() as cur:
            # The standby that made commits synchronous is not following this timeline.
            cur.execute("ALTER SYSTEM RESET synchronous_standby_names")
            cur.execute("SELECT pg_reload_conf()")
        return kept

    def scratch(self) -> _Scratch:
        """A scratch data directory beside the repository, removed (and stopped) after use."""
        return _Scratch(self.folder.absolute(), cluster_owner(self.data))

    def start_scratch(self, data: Path) -> str:
        """Start a restored data directory on a spare port; the URL of its database."""
        port = _free_port()
        socket_dir = data.parent
        self._pg(["pg_ctl", "-D", str(data), "-l", str(socket_dir / "server.log"), "-w", "-t",
                  "600", "-o", f"-p {port} -k {socket_dir} -c listen_addresses=127.0.0.1 "
                  "-c archive_mode=off -c synchronous_standby_names=''", "start"])
        url = f"postgresql://{embedded.SUPERUSER}@127.0.0.1:{port}/{self.db_name}"
        _wait_promoted(url, socket_dir / "server.log")
        return url

    # --- helpers -------------------------------------------------------------------------------

    def _set_before(self, when: datetime) -> list[str]:
        """``--set`` of the latest backup whose point precedes ``when`` (pgBackRest's own choice
        goes by whole-second stop times and misses a backup that ended in the same second)."""
        before = [p.stem for p in sorted((self.folder / "points").glob("*.json"))
                  if datetime.fromisoformat(_read_json(p).get("point_time", "9999-01-01T00:00:00+00:00"))
                  <= when]
        return [f"--set={before[-1]}"] if before else []

    def _latest_point(self) -> str:
        points = sorted((self.folder / "points").glob("*.json"))
        if not points:
            raise BackupError("Chưa có bản sao lưu nào; hãy chạy 'ioc backup full'.",
                              message_en="No backup yet; run 'ioc backup full'.")
        return points[-1].stem

    def _write_point(self, record: dict[str, Any]) -> None:
        path = self.folder / "points" / f"{record['label']}.json"
        path.write_text(json.dumps(record, ensure_ascii=False, indent=1), encoding="utf-8")

    def _update_status(self, **changes: dict[str, Any]) -> None:
        path = self.folder / "status.json"
        current = _read_json(path)
        current.update(changes)
        path.write_text(json.dumps(current, ensure_ascii=False, indent=1), encoding="utf-8")

    def _wait_archived(self, url: str, lsn: str, timeout: float = 120) -> None:
        """Wait until the WAL segment holding ``lsn`` is in the archive."""
        deadline = time.monotonic() + timeout
        with _connect(url) as conn, conn.cursor() as cur:
            cur.execute("SELECT pg_walfile_name(%s)", (lsn,))
            wanted = cur.fetchone()[0]
            while True:
                cur.execute("SELECT last_archived_wal, last_failed_wal FROM pg_stat_archiver")
                archived, failed = cur.fetchone()
                if archived is not None and archived[8:] >= wanted[8:]:
                    return
                if time.monotonic() > deadline:
                    raise BackupError(
                        f"WAL {wanted} chưa được lưu trữ sau {timeout:.0f} s (lỗi gần nhất: "
                        f"{failed}); xem {self.folder / 'log'}.",
                        message_en=f"WAL {wanted} not archived after {timeout:.0f} s (last "
                        f"failure: {failed}); see {self.folder / 'log'}.")
                time.sleep(0.2)

    def _pgbackrest(self, command: str, *options: str) -> str:
        args = [shutil.which(_PGBACKREST) or _PGBACKREST, f"--config={self.conf}",
                f"--stanza={STANZA}", *options, command]
        return run_tool(args, cluster_owner(self.data), what=f"pgbackrest {command}")

    def _pg(self, args: Sequence[str]) -> str:
        return run_tool([str(embedded.find_pg_bin() / args[0]), *args[1:]], cluster_owner(self.data),
                    what=args[0])


class _Scratch:
    """Context manager: a scratch data directory; its server (if started) stopped on exit."""

    def __init__(self, folder: Path, owner: pwd.struct_passwd | None) -> None:
        self.folder, self.owner = folder, owner
        self.path: Path | None = None

    def __enter__(self) -> Path:
        base = Path(tempfile.mkdtemp(prefix="verify-", dir=self.folder))
        self.path = base / "data"
        self.path.mkdir(mode=0o700)
        if self.owner is not None:
            for p in (base, self.path):
                os.chown(p, self.owner.pw_uid, self.owner.pw_gid)
        return self.path

    def __exit__(self, *exc: object) -> None:
        assert self.path is not None
        if (self.path / "postmaster.pid").exists():
            pg_ctl = str(embedded.find_pg_bin() / "pg_ctl")
            run_tool([pg_ctl, "-D", str(self.path), "-m", "immediate", "-w", "stop"], self.owner,
                 what="pg_ctl stop", check=False)
        shutil.rmtree(self.path.parent, ignore_errors=True)


def _wait_promoted(url: str, log: Path, offset: int = 0, timeout: float = 3600) -> None:
    """Wait until recovery reached its target and the server was promoted.

    A hot standby answers queries while it still replays WAL: reading then would see an earlier
    state than the target. PostgreSQL stops (FATAL) when the archive ends before the target.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            with _connect(url) as conn, conn.cursor() as cur:
                cur.execute("SELECT pg_is_in_recovery()")
                if not cur.fetchone()[0]:
                    return
        except psycopg2.OperationalError:
            pass
        if time.monotonic() > deadline or not _log_alive(log, offset):
            tail = " | ".join(_log_text(log, offset).strip().splitlines()[-3:])
            raise BackupError(f"Khôi phục không tới được đích: {tail}",
                              message_en=f"Recovery did not reach its target: {tail}")
        time.sleep(0.2)


def _log_text(log: Path, offset: int) -> str:
    try:
        with log.open("rb") as fh:
            fh.seek(offset)
            return fh.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return ""


def _log_alive(log: Path, offset: int) -> bool:
    """False once the server log (from ``offset`` on) says the server stopped in recovery."""
    text = _log_text(log, offset)
    return "database system is shut down" not in text and "startup process" not in text


def checksums(url: str) -> dict[str, list[int]]:
    """Row count and an order-independent checksum of every table of the database at ``url``."""
    with _connect(url) as conn, conn.cursor() as cur:
        return _checksums(cur, _tables(cur))


def status(var_dir: Path | None = None) -> dict[str, Any]:
    """The last backup and the last verification (for the operations page); empty when none."""
    if var_dir is None:
        from gis_core.settings import Settings

        var_dir = Settings().var_dir
    return _read_json(Path(var_dir) / "backup" / "status.json")


def _tables(cur: Any) -> list[str]:
    cur.execute("""
        SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND n.nspname NOT LIKE 'pg\\_%' ORDER BY 1""")
    return [r[0] for r in cur.fetchall()]


def _quoted(table: str) -> str:
    # Names come from format('%I.%I') in the catalog query: already quoted identifiers.
    return table


def _checksums(cur: Any, tables: Sequence[str]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for table in tables:
        cur.execute(f"SELECT count(*), coalesce(sum(hashtextextended(t::text, 0)), 0)::text "  # noqa: S608
                    f"FROM {_quoted(table)} t")
        count, total = cur.fetchone()
        out[table] = [int(count), int(total)]
    return out


def _connect(url: str) -> Any:
    conn = psycopg2.connect(url, connect_timeout=10)
    conn.autocommit = True
    return _Closing(conn)


class _Closing:
    """``with`` closes the connection (psycopg2's own ``with`` only ends the transaction)."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def __enter__(self) -> Any:
        return self.conn

    def __exit__(self, *exc: object) -> None:
        self.conn.close()


def cluster_owner(path: Path) -> pwd.struct_passwd | None:
    """The user to run PostgreSQL tools as: the data directory's owner when we are root."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwuid(path.stat().st_uid)
    except FileNotFoundError:
        return pwd.getpwnam(embedded.SUPERUSER)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}


def run_tool(args: Sequence[str], owner: pwd.struct_passwd | None, *, what: str,
         check: bool = True) -> str:
    """Run a tool (as ``owner`` through runuser when given); a one-line error on failure."""
    cmd = list(args)
    if owner is not None and owner.pw_uid != os.geteuid():
        cmd = [shutil.which("runuser") or "/usr/sbin/runuser", "-u", owner.pw_name, "--", *cmd]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "PGBACKREST"))}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False,  # noqa: S603
                          cwd="/")
    if check and proc.returncode != 0:
        output = " | ".join(line.strip() for line in (proc.stderr or proc.stdout).splitlines()
                            if line.strip())[-400:]
        raise BackupError(f"{what} thất bại (mã {proc.returncode}): {output}",
                          message_en=f"{what} failed (exit {proc.returncode}): {output}")
    return proc.stdout
