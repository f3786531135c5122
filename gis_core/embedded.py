"""A private PostgreSQL + PostGIS cluster for local runs without ``DATABASE_URL``.

The cluster lives under one directory (e.g. ``var/pg``): ``data/`` holds the cluster,
``port`` the loopback port chosen on first start, ``server.log`` the server log, and the
Unix socket sits in the directory itself so no ``/var/run`` permissions are needed.
"""

from __future__ import annotations

import math
import os
import pwd
import re
import shutil
import socket
import stat
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from gis_core.errors import EmbeddedDatabaseError

__all__ = ["ARCHIVE_CONF", "ClusterStatus", "find_pg_bin", "start", "status", "stop"]

SUPERUSER = "postgres"
DEFAULT_DB = "ioc"

_PG_LIB = Path("/usr/lib/postgresql")
_PG_SHARE = Path("/usr/share/postgresql")
_CONF_NAME = "embedded.conf"
# Written by gis_core.backup: the archive_command pushing WAL to pgBackRest.
ARCHIVE_CONF = "archive.conf"
_DB_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
# sun_path is 108 bytes on Linux; PostgreSQL appends "/.s.PGSQL.<port>.lock".
_MAX_SOCKET_DIR = 107 - len("/.s.PGSQL.65535.lock")


@dataclass(frozen=True)
class ClusterStatus:
    """State of a private cluster as seen on disk and in the process table."""

    root: Path
    initialised: bool
    running: bool
    port: int | None
    pid: int | None
    db_name: str = DEFAULT_DB

    @property
    def url(self) -> str:
        """Connection URL of the cluster's application database."""
        if self.port is None:
            raise EmbeddedDatabaseError(
                f"Cụm PostgreSQL riêng tại {self.root} chưa có cổng; hãy khởi động nó trước.",
                message_en=f"The private PostgreSQL cluster at {self.root} has no port yet; "
                "start it first.",
            )
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{self.db_name}"


def find_pg_bin() -> Path:
    """Return the newest PostgreSQL bin directory whose major version has PostGIS."""
    majors = sorted(
        (int(p.name) for p in _PG_LIB.glob("*") if p.name.isdigit()) if _PG_LIB.is_dir() else (),
        reverse=True,
    )
    usable = [m for m in majors if (_PG_LIB / str(m) / "bin" / "initdb").is_file()]
    for major in usable:
        bin_dir = _PG_LIB / str(major) / "bin"
        if (bin_dir / "pg_ctl").is_file() and (
            _PG_SHARE / str(major) / "extension" / "postgis.control"
        ).is_file():
            return bin_dir
    if usable:
        pkg = f"postgresql-{usable[0]}-postgis-3"
        raise EmbeddedDatabaseError(
            f"PostgreSQL {usable[0]} đã được cài nhưng thiếu PostGIS; "
            f"hãy chạy: apt-get install {pkg}",
            message_en=f"PostgreSQL {usable[0]} is installed but PostGIS is missing; "
            f"run: apt-get install {pkg}",
        )
    raise EmbeddedDatabaseError(
        f"Không tìm thấy PostgreSQL (initdb, pg_ctl) trong {_PG_LIB}; hãy chạy: apt-get install "
        "postgresql postgresql-<major>-postgis-3 (ví dụ postgresql-15-postgis-3 trên Debian 12)",
        message_en=f"No PostgreSQL (initdb, pg_ctl) found under {_PG_LIB}; run: apt-get install "
        "postgresql postgresql-<major>-postgis-3 (e.g. postgresql-15-postgis-3 on Debian 12)",
    )


def status(root: Path, *, db_name: str = DEFAULT_DB) -> ClusterStatus:
    """Report whether the cluster under ``root`` is initialised and running, and on which port."""
    root = Path(root).absolute()
    data = root / "data"
    try:
        initialised = (data / "PG_VERSION").is_file()
        pid, pid_port = _read_postmaster_pid(data)
    except PermissionError as exc:
        raise EmbeddedDatabaseError(
            f"Không đọc được {exc.filename}: cụm PostgreSQL riêng thuộc về người dùng khác; "
            "hãy chạy lại với cùng người dùng đã tạo nó.",
            message_en=f"Cannot read {exc.filename}: the private PostgreSQL cluster belongs to "
            "another user; run again as the user who created it.",
        ) from None
    running = pid is not None and _pid_alive(pid)
    port = pid_port if running and pid_port is not None else _read_port(root)
    return ClusterStatus(
        root=root,
        initialised=initialised,
        running=running,
        port=port,
        pid=pid if running else None,
        db_name=db_name,
    )


def start(root: Path, *, db_name: str = DEFAULT_DB, timeout: float = 60) -> ClusterStatus:
    """Create (once) and start the cluster, then ensure ``db_name`` exists with PostGIS."""
    if not _DB_NAME_RE.fullmatch(db_name):
        raise EmbeddedDatabaseError(
            f"Tên cơ sở dữ liệu không hợp lệ: {db_name!r} (chỉ chữ, số, dấu gạch dưới).",
            message_en=f"Invalid database name: {db_name!r} (letters, digits, underscores only).",
        )
    bin_dir = find_pg_bin()
    root = Path(root).absolute()
    owner = _prepare_root(root)
    deadline = time.monotonic() + timeout
    current = status(root, db_name=db_name)

    if not current.running:
        if not current.initialised:
            _initdb(bin_dir, root, owner, deadline)
        port = current.port or _pick_free_port()
        _write_file(root / "port", f"{port}\n", owner)
        _configure(root, port, owner)
        _ensure_port_free(root, port)
        log = root / "server.log"
        wait = str(max(1, math.ceil(_remaining(deadline))))
        _run(
            bin_dir,
            ["pg_ctl", "-D", str(root / "data"), "-l", str(log), "-w", "-t", wait, "start"],
            owner=owner,
            cwd=root,
            deadline=deadline,
            what="pg_ctl start",
            log=log,
        )
        current = status(root, db_name=db_name)

    port = current.port if current.port is not None else _read_port(root)
    if port is None:
        raise EmbeddedDatabaseError(
            f"Không xác định được cổng của cụm PostgreSQL riêng tại {root}.",
            message_en=f"Cannot determine the port of the private PostgreSQL cluster at {root}.",
        )
    _wait_ready(bin_dir, root, port, owner, deadline)
    # A hot standby, or a cluster still recovering to a target, is read-only.
    if not any((root / "data" / f).exists() for f in ("standby.signal", "recovery.signal")):
        _ensure_database(bin_dir, root, port, db_name, owner, deadline)
    return status(root, db_name=db_name)


def stop(root: Path) -> bool:
    """Stop the cluster (fast shutdown); return False when it was not running."""
    root = Path(root).absolute()
    if not status(root).running:
        return False
    bin_dir = find_pg_bin()
    owner = _postgres_owner() if os.geteuid() == 0 else None
    _run(
        bin_dir,
        ["pg_ctl", "-D", str(root / "data"), "-m", "fast", "-w", "stop"],
        owner=owner,
        cwd=root,
        deadline=time.monotonic() + 60,
        what="pg_ctl stop",
        log=root / "server.log",
    )
    return True


# --- helpers -----------------------------------------------------------------------------------


def _postgres_owner() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(SUPERUSER)
    except KeyError:
        raise EmbeddedDatabaseError(
            "Đang chạy với quyền root nhưng không có người dùng hệ thống 'postgres' "
            "(initdb từ chối chạy bằng root); hãy cài gói postgresql hoặc chạy bằng người dùng "
            "thường.",
            message_en="Running as root but there is no 'postgres' system user (initdb refuses "
            "to run as root); install the postgresql package or run as a normal user.",
        ) from None


def _prepare_root(root: Path) -> pwd.struct_passwd | None:
    """Create ``root``; as root, hand it to ``postgres`` and return that user, else None."""
    if len(str(root)) > _MAX_SOCKET_DIR:
        raise EmbeddedDatabaseError(
            f"Đường dẫn {root} quá dài cho socket Unix của PostgreSQL "
            f"(tối đa {_MAX_SOCKET_DIR} ký tự); hãy dùng thư mục ngắn hơn.",
            message_en=f"The path {root} is too long for PostgreSQL's Unix socket "
            f"(at most {_MAX_SOCKET_DIR} characters); use a shorter directory.",
        )
    owner = _postgres_owner() if os.geteuid() == 0 else None
    try:
        root.mkdir(parents=True, exist_ok=True)
        if owner is not None:
            _check_traversable(root.parent, owner)
            os.chown(root, owner.pw_uid, owner.pw_gid)
        # The socket lives here and authentication is "trust": keep other local users out.
        root.chmod(0o700)
    except OSError as exc:
        raise EmbeddedDatabaseError(
            f"Không tạo/chuẩn bị được thư mục {root}: {exc.strerror or exc}",
            message_en=f"Cannot create/prepare directory {root}: {exc.strerror or exc}",
        ) from None
    return owner


def _check_traversable(directory: Path, owner: pwd.struct_passwd) -> None:
    """Fail clearly if ``owner`` cannot reach ``directory`` (needs +x on every ancestor)."""
    groups = set(os.getgrouplist(owner.pw_name, owner.pw_gid))
    for d in [*reversed(directory.parents), directory]:
        st = d.stat()
        if st.st_uid == owner.pw_uid:
            ok, fix = bool(st.st_mode & stat.S_IXUSR), "u+x"
        elif st.st_gid in groups:
            ok, fix = bool(st.st_mode & stat.S_IXGRP), "g+x"
        else:
            ok, fix = bool(st.st_mode & stat.S_IXOTH), "o+x"
        if not ok:
            raise EmbeddedDatabaseError(
                f"Người dùng 'postgres' không truy cập được thư mục {d}; hãy chạy: "
                f"chmod {fix} {d} (hoặc đặt cụm PostgreSQL riêng ở nơi khác).",
                message_en=f"The 'postgres' user cannot traverse {d}; run: chmod {fix} {d} "
                "(or put the private PostgreSQL cluster elsewhere).",
            )


def _initdb(bin_dir: Path, root: Path, owner: pwd.struct_passwd | None, deadline: float) -> None:
    base = ["initdb", "-D", str(root / "data"), "-U", SUPERUSER, "-A", "trust", "-E", "UTF8"]
    try:
        _run(
            bin_dir,
            [*base, "--locale=C.UTF-8"],
            owner=owner,
            cwd=root,
            deadline=deadline,
            what="initdb",
        )
    except EmbeddedDatabaseError as exc:
        if "locale" not in str(exc).lower():
            raise
        # initdb removes the data directory it created on failure, so a retry starts clean.
        _run(
            bin_dir, [*base, "--no-locale"], owner=owner, cwd=root, deadline=deadline, what="initdb"
        )
    conf = root / "data" / "postgresql.conf"
    include = f"include_if_exists = '{_CONF_NAME}'\n"
    with conf.open("a", encoding="utf-8") as fh:
        fh.write("\n# Settings managed by gis_core.embedded\n" + include)


def _configure(root: Path, port: int, owner: pwd.struct_passwd | None) -> None:
    sockets = str(root).replace("'", "''")
    _write_file(
        root / "data" / _CONF_NAME,
        "# Managed by gis_core.embedded; rewritten at every start.\n"
        "listen_addresses = '127.0.0.1'\n"
        f"port = {port}\n"
        f"unix_socket_directories = '{sockets}'\n"
        # WAL archiving and streaming replication are ready from the first start (both need a
        # restart to switch on): WAL is discarded until `ioc backup` writes archive.conf with
        # pgBackRest's archive-push; a segment is closed at least every minute (the RPO).
        "wal_level = replica\n"
        "archive_mode = on\n"
        "archive_command = '/bin/true'\n"
        "archive_timeout = 60\n"
        "max_wal_senders = 10\n"
        "max_replication_slots = 10\n"
        "hot_standby = on\n"
        f"include_if_exists = '{ARCHIVE_CONF}'\n",
        owner,
    )


def _write_file(path: Path, text: str, owner: pwd.struct_passwd | None) -> None:
    path.write_text(text, encoding="utf-8")
    if owner is not None:
        os.chown(path, owner.pw_uid, owner.pw_gid)


def _read_port(root: Path) -> int | None:
    try:
        return int((root / "port").read_text(encoding="utf-8").strip())
    except (FileNotFoundError, ValueError):
        return None


def _read_postmaster_pid(data: Path) -> tuple[int | None, int | None]:
    """Return (pid, port) from ``postmaster.pid``, or Nones if absent or half-written."""
    try:
        lines = (data / "postmaster.pid").read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return None, None
    try:
        pid = int(lines[0])
    except (IndexError, ValueError):
        return None, None
    try:
        port: int | None = int(lines[3])
    except (IndexError, ValueError):
        port = None
    return pid, port


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _pick_free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ensure_port_free(root: Path, port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Like PostgreSQL itself, ignore TIME_WAIT leftovers from our previous run.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            raise EmbeddedDatabaseError(
                f"Cổng 127.0.0.1:{port} của cụm PostgreSQL riêng đang bị tiến trình khác chiếm; "
                f"hãy dừng tiến trình đó hoặc xoá {root / 'port'} để chọn cổng mới.",
                message_en=f"Port 127.0.0.1:{port} of the private PostgreSQL cluster is taken by "
                f"another process; stop it or delete {root / 'port'} to pick a new port.",
            ) from None


def _wait_ready(
    bin_dir: Path, root: Path, port: int, owner: pwd.struct_passwd | None, deadline: float
) -> None:
    cmd = ["pg_isready", "-q", "-h", "127.0.0.1", "-p", str(port), "-U", SUPERUSER, "-t", "1"]
    while True:
        try:
            _run(bin_dir, cmd, owner=owner, cwd=root, deadline=deadline, what="pg_isready")
            return
        except EmbeddedDatabaseError:
            if _remaining(deadline) <= 0.2:
                raise _error(
                    f"PostgreSQL riêng không sẵn sàng trên 127.0.0.1:{port} trong thời hạn.",
                    f"The private PostgreSQL did not become ready on 127.0.0.1:{port} in time.",
                    root / "server.log",
                ) from None
            time.sleep(0.2)


def _ensure_database(
    bin_dir: Path,
    root: Path,
    port: int,
    db_name: str,
    owner: pwd.struct_passwd | None,
    deadline: float,
) -> None:
    psql = ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-U", SUPERUSER]
    psql += ["-h", str(root), "-p", str(port)]
    # psql variables quote the name for us; \gexec runs CREATE DATABASE outside a transaction.
    create = (
        "SELECT format('CREATE DATABASE %I', :'db') "
        "WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db')\\gexec\n"
    )
    _run(
        bin_dir,
        [*psql, "-d", "postgres", "-v", f"db={db_name}"],
        owner=owner,
        cwd=root,
        deadline=deadline,
        what="psql (CREATE DATABASE)",
        stdin=create,
    )
    _run(
        bin_dir,
        [*psql, "-d", db_name, "-c", "CREATE EXTENSION IF NOT EXISTS postgis"],
        owner=owner,
        cwd=root,
        deadline=deadline,
        what="psql (CREATE EXTENSION postgis)",
        log=root / "server.log",
    )


def _remaining(deadline: float) -> float:
    return deadline - time.monotonic()


def _clean_env() -> dict[str, str]:
    # Stray PGHOST/PGPORT/PGDATABASE/... would point the tools at some other server.
    return {k: v for k, v in os.environ.items() if not k.startswith("PG")}


def _run(
    bin_dir: Path,
    args: Sequence[str],
    *,
    owner: pwd.struct_passwd | None,
    cwd: Path,
    deadline: float,
    what: str,
    log: Path | None = None,
    stdin: str | None = None,
) -> str:
    """Run a PostgreSQL tool (via ``runuser`` when root); raise a one-line error on failure."""
    cmd = [str(bin_dir / args[0]), *args[1:]]
    if owner is not None:
        runuser = shutil.which("runuser") or "/usr/sbin/runuser"
        cmd = [runuser, "-u", owner.pw_name, "--", *cmd]
    try:
        proc = subprocess.run(  # noqa: S603 - fixed tool paths, no shell
            cmd,
            cwd=cwd,
            env=_clean_env(),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=max(_remaining(deadline), 1.0),
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise _error(f"{what} quá thời gian chờ.", f"{what} timed out.", log) from None
    except OSError as exc:
        raise EmbeddedDatabaseError(
            f"Không chạy được {cmd[0]}: {exc.strerror or exc}",
            message_en=f"Cannot run {cmd[0]}: {exc.strerror or exc}",
        ) from None
    if proc.returncode != 0:
        output = " | ".join(
            line.strip() for line in (proc.stderr or proc.stdout).splitlines() if line.strip()
        )[-500:].rstrip(".")
        raise _error(
            f"{what} thất bại (mã {proc.returncode}): {output or 'không có thông báo'}.",
            f"{what} failed (exit {proc.returncode}): {output or 'no output'}.",
            log,
        )
    return proc.stdout


def _error(message: str, message_en: str, log: Path | None = None) -> EmbeddedDatabaseError:
    """Build a one-line error, appending the tail of the server log when there is one."""
    tail = _log_tail(log) if log is not None else ""
    if tail:
        message += f" Nhật ký {log}: {tail}"
        message_en += f" Log {log}: {tail}"
    return EmbeddedDatabaseError(message, message_en=message_en)


def _log_tail(log: Path, *, lines: int = 5) -> str:
    """The last non-empty lines of the server log, joined on one line."""
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return " | ".join([line.strip() for line in text.splitlines() if line.strip()][-lines:])
