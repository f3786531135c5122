"""The sessions and API keys this process has resolved, kept until PostgreSQL says they changed.

Triggers of migration 0024 send ``account-id:writer-pid`` on channel ``ioc_credentials`` at each
commit that updates or deletes an account or a session (a lock, unlock, revoke, role change, new
password, sign-out, a session ended), and ``*`` when either table is truncated. A notice reaches
the listeners a moment after the commit: a change committed by this process (``watch``) holds the
cache off until its own notice is heard, so the next request here never sees what it changed.
The listener drops that account's entries; on every (re)connect, and every ``check_s``, it
drops everything. While the connection is down or has input not yet read, ``get`` finds
nothing: the database is asked. An entry read before a notice was applied is not stored
(``generation``), so a resolution racing a revoke never outlives it. Entries are bounded in
number (least recently used out) and age.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from collections.abc import Hashable, Mapping
from typing import Any

import psycopg2.extensions
from sqlalchemy import event
from sqlalchemy.engine import Engine

from gis_core.listener import NoticeListener

CHANNEL = "ioc_credentials"
ALL = "*"


class CredentialCache(NoticeListener):
    """Resolved credentials (the database rows they stand for) by key, per process."""

    channel = CHANNEL

    def __init__(self, dsn: str, *, size: int = 10_000, max_age_s: float = 300.0,
                 check_s: float = 60.0, retry_s: float = 0.5):
        super().__init__(dsn, check_s=check_s, retry_s=retry_s)
        self.size = size
        self.max_age_s = max_age_s
        self._entries: OrderedDict[Hashable, tuple[int, Mapping[str, Any], float]] = OrderedDict()
        self._by_account: dict[int, set[Hashable]] = {}
        self._generation = 0
        self._held: set[int] = set()  # backend pids of this process's commits not yet heard

    def get(self, key: Hashable) -> Mapping[str, Any] | None:
        """The row stored for ``key``, or None (not stored, too old, or not listening)."""
        with self._lock:
            if not self._fresh() or self._held:
                return None
            entry = self._entries.get(key)
            if entry is None:
                return None
            if time.monotonic() - entry[2] > self.max_age_s:
                self._drop(key)
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def generation(self) -> int | None:
        """Take before reading the row to ``put``; None while not listening (store nothing)."""
        with self._lock:
            return self._generation if self._fresh() and not self._held else None

    def put(self, key: Hashable, account_id: int, row: Mapping[str, Any],
            generation: int | None) -> None:
        """Keep ``row`` (of account ``account_id``), read after ``generation`` was taken, unless a
        notice was applied or the connection changed since."""
        with self._lock:
            if generation is None or generation != self._generation or not self._fresh() \
                    or self._held:
                return
            self._drop(key)
            self._entries[key] = (account_id, row, time.monotonic())
            self._by_account.setdefault(account_id, set()).add(key)
            while len(self._entries) > self.size:
                self._drop(next(iter(self._entries)))

    def hold(self, pid: int) -> None:
        """Find nothing until the notice of the commit about to be made on backend ``pid``
        is heard (or the connection is renewed)."""
        with self._lock:
            self._held.add(pid)

    def __len__(self) -> int:
        return len(self._entries)

    def _drop(self, key: Hashable) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            keys = self._by_account.get(entry[0])
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._by_account[entry[0]]

    def _load(self, state: Any) -> None:
        self._held.clear()
        self._entries.clear()
        self._by_account.clear()
        self._generation += 1

    def _apply(self, notices: list[psycopg2.extensions.Notify]) -> None:
        for notice in notices:
            self._generation += 1
            account, _, pid = notice.payload.partition(":")
            if pid.isdigit():
                self._held.discard(int(pid))
            if account == ALL or not account.isdigit():
                self._load(None)
                continue
            for key in list(self._by_account.get(int(account), ())):
                self._drop(key)


_CHANGES = re.compile(r"^\s*(UPDATE|DELETE\s+FROM|TRUNCATE)\s+(TABLE\s+)?(accounts|sessions)\b",
                      re.IGNORECASE)


def watch(engine: Engine, cache: CredentialCache) -> None:
    """Hold ``cache`` off from each commit through ``engine`` that changes an account or a
    session until that commit's notice is heard."""

    def executed(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if ("accounts" in statement or "sessions" in statement) and _CHANGES.match(statement):
            conn.info["ioc_credentials_pid"] = conn.connection.dbapi_connection.get_backend_pid()

    def committing(conn: Any) -> None:
        pid = conn.info.pop("ioc_credentials_pid", None)
        if pid is not None:
            cache.hold(pid)

    def rolled_back(conn: Any) -> None:
        conn.info.pop("ioc_credentials_pid", None)

    event.listen(engine, "after_cursor_execute", executed)
    event.listen(engine, "commit", committing)
    event.listen(engine, "rollback", rolled_back)
