"""State kept in this process from PostgreSQL notices: one thread, one connection, ``LISTEN``.

A subclass names its ``channel`` and says what to do on each (re)connect (``_read`` the state
from the database, ``_load`` it), on each notice (``_apply``) and every ``check_s`` (a re-read:
the safety net for anything else). On every (re)connect the thread listens first and then reads,
so no commit falls between the two. ``fresh`` is False while the connection is down or has unread
input (a notice, or its end, not yet seen by the thread): callers then ask the database.
"""

from __future__ import annotations

import logging
import select
import threading
import time
from typing import Any

import psycopg2
import psycopg2.extensions

LOG = logging.getLogger(__name__)


def _readable(conn: psycopg2.extensions.connection) -> bool:
    try:
        return bool(select.select([conn], [], [], 0)[0])
    except (OSError, ValueError, psycopg2.InterfaceError):  # closed meanwhile
        return True


class NoticeListener:
    """Listens on ``channel`` in a thread of its own; subclasses keep what the notices say."""

    channel: str = ""

    def __init__(self, dsn: str, *, check_s: float = 30.0, retry_s: float = 0.5):
        self.dsn = dsn
        self.check_s = check_s
        self.retry_s = retry_s
        self.connects = 0  # how many times the listener (re)connected and re-read its state
        self._live = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._conn: psycopg2.extensions.connection | None = None

    def start(self) -> None:
        """Start listening (once per process)."""
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name=f"ioc-{self.channel}",
                                            daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop listening and close the connection."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _fresh(self) -> bool:
        """Whether what was heard is all there is (call with ``_lock`` held: the thread reads the
        socket and applies what it read under it)."""
        conn = self._conn
        return self._live and conn is not None and not conn.notifies and not _readable(conn)

    @property
    def live(self) -> bool:
        """Whether the listener is connected and has read the state since."""
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
                LOG.warning("listener on %s lost its connection: %s", self.channel, err)
            finally:
                with self._lock:
                    self._live = False
                    if self._conn is not None:
                        self._conn.close()
                        self._conn = None
            self._stop.wait(self.retry_s)

    def _read_all(self, conn: psycopg2.extensions.connection) -> None:
        state = self._read(conn)
        with self._lock:
            # What was read is the truth; notices read along with the answer may be newer and
            # are applied after it.
            self._load(state)
            self._apply(conn.notifies)
            conn.notifies.clear()
            self._live = True

    def connect(self) -> psycopg2.extensions.connection:
        """Listen on a new connection, then read the state (the thread's first step)."""
        conn = self._conn = psycopg2.connect(self.dsn, application_name=f"laichau-{self.channel}")
        conn.set_session(autocommit=True)
        with conn.cursor() as cursor:
            cursor.execute(f"LISTEN {self.channel}")
        with self._lock:
            self._load(None)  # anything heard before this connection may have been lost
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

    def _read(self, conn: psycopg2.extensions.connection) -> Any:
        """The state from the database (outside the lock); None by default."""
        return None

    def _load(self, state: Any) -> None:
        """Take the state read (None: forget everything); called with ``_lock`` held."""
        raise NotImplementedError

    def _apply(self, notices: list[psycopg2.extensions.Notify]) -> None:
        """Take the notices heard; called with ``_lock`` held."""
        raise NotImplementedError
