"""Server processes: start in their own process group, wait until they answer, stop, measure RSS."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from bench.config import HOST

READY_TIMEOUT_S = 180.0
STOP_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class ServerSpec:
    """How to run one system: command, environment, port and the path that says it is up."""

    name: str
    argv: list[str]
    env: dict[str, str]
    port: int
    ready_path: str
    cwd: Path
    log: Path


@dataclass
class Server:
    """A started server (or one that failed to start, with the reason)."""

    spec: ServerSpec
    process: subprocess.Popen | None = None
    error: str | None = None
    peak_rss_kb: dict[int, int] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        """``http://host:port`` of the server."""
        return f"http://{HOST}:{self.spec.port}"

    @property
    def up(self) -> bool:
        """Started, answering, not exited."""
        return self.error is None and self.process is not None and self.process.poll() is None


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def clean_env(**extra: str) -> dict[str, str]:
    """The current environment without database or server settings that could leak in, plus ``extra``."""
    dropped = ("IOC_", "PYGEOAPI_", "TIPG_", "PG", "UVICORN_")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(dropped) and k not in ("DATABASE_URL", "VIRTUAL_ENV")}
    env.update(extra)
    return env


def start(spec: ServerSpec) -> Server:
    """Start ``spec`` in a new session (its own process group), output to its log file."""
    spec.log.parent.mkdir(parents=True, exist_ok=True)
    spec.cwd.mkdir(parents=True, exist_ok=True)
    with spec.log.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own command line
            spec.argv, env=spec.env, cwd=spec.cwd, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True)
    return Server(spec, process)


def _log_tail(path: Path, lines: int = 12) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.strip().splitlines()[-lines:])


def wait_ready(server: Server, timeout: float = READY_TIMEOUT_S) -> bool:
    """Poll the ready path until it answers 200; on failure record why in ``server.error``."""
    url = server.base_url + server.spec.ready_path
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if server.process is None or server.process.poll() is not None:
            code = None if server.process is None else server.process.returncode
            server.error = f"exited with code {code}:\n{_log_tail(server.spec.log)}"
            return False
        try:
            with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback URL
                if response.status == 200:
                    return True
                last = f"HTTP {response.status}"
        except urllib.error.HTTPError as err:
            last = f"HTTP {err.code}"
        except (urllib.error.URLError, OSError) as err:
            last = str(err)
        time.sleep(0.3)
    server.error = f"not answering {url} after {timeout:.0f} s ({last}):\n{_log_tail(server.spec.log)}"
    return False


def children(pid: int) -> list[int]:
    """Direct children of ``pid``, from /proc."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return [int(p) for p in path.read_text().split()]
    except (OSError, ValueError):
        pass
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _status_kb(pid: int, key: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def _is_worker(pid: int) -> bool:
    """A uvicorn worker, not multiprocessing's resource tracker."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return False
    return b"resource_tracker" not in cmdline


def record_peak_rss(server: Server) -> dict[int, int]:
    """VmHWM (kB) of each worker process, the children of the uvicorn master."""
    if server.process is None or server.process.poll() is not None:
        return server.peak_rss_kb
    for pid in children(server.process.pid):
        if _is_worker(pid) and (hwm := _status_kb(pid, "VmHWM")) is not None:
            server.peak_rss_kb[pid] = hwm
    return server.peak_rss_kb


def _cpu_ticks(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime + stime
        except (OSError, IndexError, ValueError):
            continue
    return total


def wait_quiet(server: Server, timeout: float = 60.0, interval: float = 0.5) -> float:
    """Wait until the server's processes stop using CPU (queued requests served); seconds waited."""
    started = time.monotonic()
    if server.process is None:
        return 0.0
    pids = [server.process.pid, *children(server.process.pid)]
    before = _cpu_ticks(pids)
    while time.monotonic() - started < timeout:
        time.sleep(interval)
        after = _cpu_ticks(pids)
        if after - before <= 2:  # ≤ 20 ms of CPU in the interval: idle
            break
        before = after
    return time.monotonic() - started


def stop(server: Server) -> None:
    """Stop the server's whole process group: SIGTERM, then SIGKILL after a grace period."""
    process = server.process
    if process is None:
        return
    pgid = process.pid  # start_new_session: the group id is the leader's pid
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(pgid, signal.SIGKILL)  # stragglers: workers outliving their master
    except ProcessLookupError:
        pass
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass
