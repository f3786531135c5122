"""Every layer's data version, kept in this process from PostgreSQL notices (no trip per tile).

A thread per process holds its own connection, listening on ``ioc_tiles``: the trigger of
migration 0019 sends ``layer:version`` at each commit that changes a layer. On every (re)connect
it listens first and then reads all versions from ``feature_counts``, so no commit falls between
the two; a periodic read of the same versions is the safety net for anything else. While the
connection is down, ``version`` answers None and callers ask the database themselves.
"""

from __future__ import annotations

import logging
import select
import threading
import time

import psycopg2
import psycopg2.extensions

CHANNEL = "ioc_tiles"
LOG = logging.getLogger(__name__)


def _readable(conn: psycopg2.extensions.connection) -> bool:
    try:
        return bool(select.select([conn], [], [], 0)[0])
    except (OSError, ValueError, psycopg2.InterfaceError):  # closed meanwhile
        return True


class LayerVersions:
    """The layer versions heard on ``ioc_tiles``; ``version`` is None while not listening."""

    def __init__(self, dsn: str, *, check_s: float = 30.0, retry_s: float = 0.5):
        self.dsn = dsn
        self.check_s = check_s
        self.retry_s = retry_s
        self.connects = 0  # how many times the listener (re)connected and re-read the versions
        self._versions: dict[str, int] = {}
        self._live = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._conn: psycopg2.extensions.connection | None = None

    def start(self) -> None:
        """Start listening (once per process)."""
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="ioc-tile-versions", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop listening and close the connection."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def version(self, layer: str) -> int | None:
        """The layer's version as last heard, or None when not listening (ask the database).

        None too while the connection has unread input (a notice, or its end not yet seen by the
        thread): the answer waits for no thread to be scheduled.
        """
        with self._lock:  # the thread reads the socket and applies what it read under this lock
            conn = self._conn
            if not self._live or conn is None or conn.notifies or _readable(conn):
                return None
            return self._versions.get(layer)

    @property
    def live(self) -> bool:
        """Whether the listener is connected and has read the versions since."""
        return self._live

    def backend_pid(self) -> int | None:
        """The listening connection's server process id (to test a lost connection)."""
        conn = self._conn
        return conn.get_backend_pid() if conn is not None and not conn.closed else None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._listen()
            except psycopg2.Error as err:
                LOG.warning("tile version listener lost its connection: %s", err)
            finally:
                with self._lock:
                    self._live = False
                    if self._conn is not None:
                        self._conn.close()
                        self._conn = None
            self._stop.wait(self.retry_s)

    def _read_all(self, conn: psycopg2.extensions.connection) -> None:
        with conn.cursor() as cursor:
            cursor.execute("SELECT layer, version FROM feature_counts")
            versions = dict(cursor.fetchall())
        with self._lock:
            # The rows read are the truth (a reload may lower a version); notices heard before the
            # read are in it, those read along with the answer may be newer and are applied after.
            self._versions = versions
            self._apply(conn.notifies)
            conn.notifies.clear()
            self._live = True

    def connect(self) -> psycopg2.extensions.connection:
        """Listen on a new connection, then read every version (the thread's first step)."""
        conn = self._conn = psycopg2.connect(self.dsn, application_name="laichau-ioc-tiles")
        conn.set_session(autocommit=True)
        with conn.cursor() as cursor:
            cursor.execute(f"LISTEN {CHANNEL}")
        with self._lock:
            self._versions.clear()  # anything heard before this connection may have been lost
        self._read_all(conn)
        self.connects += 1
        return conn

    def _listen(self) -> None:
        conn = self.connect()
        checked = time.monotonic()
        while not self._stop.is_set():
            if select.select([conn], [], [], min(1.0, self.check_s)) != ([], [], []):
                with self._lock:
                    conn.poll()
                    self._apply(conn.notifies)
                    conn.notifies.clear()
            if time.monotonic() - checked >= self.check_s:
                self._read_all(conn)
                checked = time.monotonic()

    def _apply(self, notices: list[psycopg2.extensions.Notify]) -> None:
        for notice in notices:
            layer, _, version = notice.payload.rpartition(":")
            if layer and version.isdigit():
                self._versions[layer] = max(int(version), self._versions.get(layer, 0))
