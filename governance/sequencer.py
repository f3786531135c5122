"""The sequencer step: what high-rate writers appended without a shared lock, put in order.

Citizen intake writes its audit entry to ``audit_pending`` and its layer change to
``feature_count_pending`` (migration 0020), so concurrent reports never wait on one another.
``settle`` then, in one transaction, chains the pending entries into ``audit_log``
(``audit.chain``, under the chain's lock) and folds the pending layer changes into
``feature_counts`` and ``tile_changes`` (``ioc_fold_feature_changes``, under the count row's
lock: versions appear in commit order). One step covers every report committed before it, so
under load a step settles many reports for one commit.

An intake request settles after its own commit and before it answers: when the reporter has the
answer, the entry is in the chain and the layer's count, version and tile boxes include the
report. ``api.audit_anchor.settle_periodically`` (every server) catches anything else, and
``ioc audit --verify`` and every anchor settle first.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

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

