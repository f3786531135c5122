"""Every table the migrations manage: the layer tables and each package's own tables.

Each package declares its tables on ``layers.tables.metadata`` in its ``tables`` module; importing
them here gives the migrations and the schema test the complete picture. A new package with
tables adds its ``<package>.tables`` below.
"""

from __future__ import annotations

import feedback.tables  # noqa: F401 - citizen reports, their steps, sealed identities, reveals
import governance.tables  # noqa: F401 - accounts, sessions, audit log, pending edits, rate limits
import harvest.tables  # noqa: F401 - harvested sources and runs, reconciliations, documents
import jobs.tables  # noqa: F401 - each background job's progress and result
import opinion.tables  # noqa: F401 - items gathered from news and social sources, skipped inputs
import reports.tables  # noqa: F401 - generated reports and their snapshots
import scenarios.tables  # noqa: F401 - targets, reported values, thematic documents, incidents
import sensors.tables  # noqa: F401 - datastreams, observations, quarantine, alerts
import tiles.tables  # noqa: F401 - the tile cache's invalidation
from layers.tables import metadata

__all__ = ["metadata"]
