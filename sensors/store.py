"""One batch of messages, one transaction: observations, quarantine, layer, alerts; then the
incidents of the alerts raised. Nothing is acknowledged to a sender before this commits."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from psycopg2 import errors

from sensors import alerts, ingest

LOG = logging.getLogger(__name__)


@dataclass
class Outcome:
    """What a batch did."""

    stored: int = 0
    duplicates: int = 0
    refused: int = 0
    raised: list[int] = field(default_factory=list)


class Store:
    """Batches to the database, with the datastream lookup cached (refreshed on a miss)."""

    def __init__(self, opener: alerts.IncidentOpener | None = None, root: str = ingest.TOPIC_ROOT):
        self.opener = opener
        self.root = root
        self.streams: dict[tuple[int, str], int] = {}
        self.defaults: dict[int, str] = {}
        self._synced = 0.0

    def _sync(self, cursor: Any) -> None:
        self.streams = ingest.sync_datastreams(cursor)
        self.defaults = ingest.station_property(cursor)
        cursor.connection.commit()
        self._synced = time.monotonic()

    def write(self, cursor: Any, messages: Sequence[tuple[str, bytes | str]]) -> Outcome:
        """Store ``(topic, payload)`` messages and commit; retried on a deadlock."""
        if not self.streams or (time.monotonic() - self._synced > 30):
            self._sync(cursor)
        parsed = ingest.parse(messages, self.streams, self.defaults, root=self.root)
        for attempt in range(5):
            try:
                stored, touched = ingest.insert(cursor, parsed)
                ingest.refresh_layer(cursor, touched)
                raised = alerts.evaluate(cursor, touched)
                cursor.connection.commit()
                break
            except (errors.DeadlockDetected, errors.SerializationFailure):
                cursor.connection.rollback()
                LOG.info("deadlock on a batch, retrying (%s)", attempt + 1)
                time.sleep(0.05 * (attempt + 1))
        else:
            raise RuntimeError("batch kept deadlocking")
        if raised and self.opener is not None:
            alerts.open_incidents(cursor, raised, self.opener)
        return Outcome(stored, len(parsed.readings) - stored, len(parsed.refused), raised)
