"""Every layer's data version, kept in this process from PostgreSQL notices (no trip per tile).

The listener (``gis_core.listener``) holds its own connection on channel ``ioc_tiles``: the
trigger of migration 0019 sends ``layer:version`` at each commit that changes a layer. On every
(re)connect, and every ``check_s`` as a safety net, it reads all versions from ``feature_counts``.
While the connection is down, ``version`` answers None and callers ask the database themselves.
"""

from __future__ import annotations

import psycopg2.extensions

from gis_core.listener import NoticeListener

CHANNEL = "ioc_tiles"


class LayerVersions(NoticeListener):
    """The layer versions heard on ``ioc_tiles``; ``version`` is None while not listening."""

    channel = CHANNEL

    def __init__(self, dsn: str, *, check_s: float = 30.0, retry_s: float = 0.5):
        super().__init__(dsn, check_s=check_s, retry_s=retry_s)
        self._versions: dict[str, int] = {}

    def version(self, layer: str) -> int | None:
        """The layer's version as last heard, or None when not listening (ask the database).

        None too while the connection has unread input (a notice, or its end not yet seen by the
        thread): the answer waits for no thread to be scheduled.
        """
        with self._lock:
            return self._versions.get(layer) if self._fresh() else None

    def _read(self, conn: psycopg2.extensions.connection) -> dict[str, int]:
        with conn.cursor() as cursor:
            cursor.execute("SELECT layer, version FROM feature_counts")
            return dict(cursor.fetchall())

    def _load(self, state: dict[str, int] | None) -> None:
        # The rows read are the truth (a reload may lower a version).
        self._versions = state or {}

    def _apply(self, notices: list[psycopg2.extensions.Notify]) -> None:
        for notice in notices:
            layer, _, version = notice.payload.rpartition(":")
            if layer and version.isdigit():
                self._versions[layer] = max(int(version), self._versions.get(layer, 0))
