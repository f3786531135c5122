"""One batch of messages, one transaction: observations and quarantine; then the incidents of the
alerts raised. Nothing is acknowledged to a sender before this commits.

The layer's latest values and the rules are brought up to date with the batch, or, when
``rules_every`` is set (the MQTT listener: a second), at most that often, for every datastream
touched since: under a flood of readings the rules run once for many batches. Once committed,
the new observations go to ``publish`` (the SensorThings MQTT topics), whatever path they came by.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
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
    parsed: ingest.Parsed | None = None
    new: list[ingest.Stored] = field(default_factory=list)


Publish = Callable[[list[ingest.Stored]], None]


class Store:
    """Batches to the database, with the datastream lookup cached (refreshed on a miss)."""

    def __init__(self, opener: alerts.IncidentOpener | None = None, root: str = ingest.TOPIC_ROOT,
                 rules_every: float = 0.0, publish: Publish | None = None):
        self.opener = opener
        self.publish = publish
        self.root = root
        self.rules_every = rules_every
        self.streams: dict[tuple[int, str], int] = {}
        self.defaults: dict[int, str] = {}
        self.pending: set[int] = set()
        self._synced = 0.0
        self._evaluated = 0.0

    def _sync(self, cursor: Any) -> None:
        self.streams = ingest.sync_datastreams(cursor)
        self.defaults = ingest.station_property(cursor)
        cursor.connection.commit()
        self._synced = time.monotonic()

    def _retrying(self, cursor: Any, work: Any) -> Any:
        for attempt in range(5):
            try:
                result = work()
                cursor.connection.commit()
                return result
            except (errors.DeadlockDetected, errors.SerializationFailure):
                cursor.connection.rollback()
                LOG.info("deadlock, retrying (%s)", attempt + 1)
                time.sleep(0.05 * (attempt + 1))
        raise RuntimeError("a batch kept deadlocking")

    def ready(self, cursor: Any, *, stale_s: float = 30) -> None:
        """Read the datastreams and stations when never read or older than ``stale_s``."""
        if not self.streams or (time.monotonic() - self._synced > stale_s):
            self._sync(cursor)

    def write(self, cursor: Any, messages: Sequence[tuple[str, bytes | str]]) -> Outcome:
        """Store ``(topic, payload)`` messages and commit; retried on a deadlock."""
        self.ready(cursor)
        return self.write_parsed(cursor, ingest.parse(messages, self.streams, self.defaults,
                                                      root=self.root))

    def write_parsed(self, cursor: Any, parsed: ingest.Parsed) -> Outcome:
        """Store what ``ingest.parse`` made of a batch and commit; then publish and evaluate."""
        new = self._retrying(cursor, lambda: ingest.insert(cursor, parsed))
        if new and self.publish is not None:
            try:
                self.publish(new)
            except Exception:  # noqa: BLE001 - stored is stored; a subscriber may miss one
                LOG.exception("could not publish %s observations", len(new))
        self.pending.update(o.datastream_id for o in new)
        raised = self.evaluate(cursor)
        return Outcome(len(new), len(parsed.readings) - len(new), len(parsed.refused), raised,
                       parsed, new)

    def evaluate(self, cursor: Any, *, due_only: bool = True) -> list[int]:
        """Layer values and rules for the datastreams touched since last time (when due)."""
        if not self.pending or (due_only and time.monotonic() - self._evaluated < self.rules_every):
            return []
        touched = sorted(self.pending)

        def work() -> list[int]:
            ingest.refresh_layer(cursor, touched)
            return alerts.evaluate(cursor, touched)

        raised = self._retrying(cursor, work)
        self.pending.clear()
        self._evaluated = time.monotonic()
        if self.opener is not None:  # incidents of the alerts raised, and of those cleared
            alerts.open_incidents(cursor, raised, self.opener)
        return raised
