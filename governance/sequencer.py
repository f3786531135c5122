"""The sequencer step: what high-rate writers appended without a shared lock, put in order.

Citizen intake writes its audit entry to ``audit_pending`` and its layer change to
``feature_count_pending`` (migration 0020), so concurrent reports never wait on one another.
``settle`` then, in one transaction, chains the pending entries into ``audit_log``
(``audit.chain``, under the chain's lock) and folds the pending layer changes into
``feature_counts`` and ``tile_changes`` (``ioc_fold_feature_changes``, under the count row's
lock: versions appear in commit order). One step covers every report committed before it, so
under load a step settles many reports for one commit.

An intake request waits, after its own commit and before it answers, for a step of its process's
``Sequencer`` that began after that commit: when the reporter has the answer, the entry is in the
chain and the layer's count, version and tile boxes include the report. One thread per process
takes the steps (for all its waiting requests at once, and every few seconds for anything else),
so requests do not queue on the chain's lock: only the sequencers of the workers and the writers
that chain at once take it. ``ioc audit --verify`` and every anchor settle first.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.engine import Engine

from gis_core.db import translate_db_errors
from governance import audit

LOG = logging.getLogger("ioc.sequencer")
_ANYTHING = text("SELECT EXISTS (SELECT 1 FROM audit_pending) "
                 "OR EXISTS (SELECT 1 FROM feature_count_pending)")


@dataclass(frozen=True)
class Settled:
    """What one step put in order: audit entries chained, feature rows counted."""

    entries: int
    features: int


def settle(engine: Engine) -> Settled:
    """Chain every committed pending audit entry and fold every pending layer change."""
    with translate_db_errors():
        with engine.connect() as conn:
            if not conn.execute(_ANYTHING).scalar_one():
                return Settled(0, 0)
        entries = features = 0
        with engine.begin() as conn:
            while (chained := audit.chain(conn)) > 0:
                entries += chained
                if chained < 10_000:
                    break
            features = int(conn.execute(text("SELECT ioc_fold_feature_changes()")).scalar_one())
    return Settled(entries, features)


@dataclass
class _Waiter:
    done: threading.Event = field(default_factory=threading.Event)
    settled: bool = False


class Sequencer:
    """The thread of one process that takes the steps: at once for the requests waiting on it,
    and every ``every_s`` seconds for what other paths left pending."""

    def __init__(self, engine: Engine, every_s: float = 2.0):
        self.engine = engine
        self.every_s = every_s
        self._waiting: list[_Waiter] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread (once per process)."""
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="ioc-sequencer", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Take a last step and end the thread."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def wait(self, timeout: float = 30.0) -> bool:
        """Return once a step that began after this call has ended: what the caller committed
        before calling is settled (False: not within ``timeout``; the next step will)."""
        if self._thread is None or not self._thread.is_alive():
            settle(self.engine)
            return True
        waiter = _Waiter()
        with self._lock:
            self._waiting.append(waiter)
        self._wake.set()
        return waiter.done.wait(timeout) and waiter.settled

    def _run(self) -> None:
        while True:
            self._wake.wait(self.every_s)
            self._wake.clear()
            stopping = self._stop.is_set()
            with self._lock:
                waiting, self._waiting = self._waiting, []
            settled = True
            try:
                settle(self.engine)
            except Exception:  # noqa: BLE001 - a database hiccup must not end the sequencer
                LOG.exception("could not settle the pending audit entries and layer changes")
                settled = False
            for waiter in waiting:  # registered before the step began, so covered by it
                waiter.settled = settled
                waiter.done.set()
            if stopping:
                return
