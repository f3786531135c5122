"""The table of request counts per caller and minute, shared by every worker (migration 0010)."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Integer, Table, Text

from layers.tables import metadata

# One row per bucket (e.g. 'compute:203.0.113.7') and minute (the start of the counting window):
# the requests it made in that window. Rows a few windows old are deleted as new windows start.
RATE_LIMITS = Table(
    "rate_limits", metadata,
    Column("bucket", Text, primary_key=True),
    Column("minute", DateTime(timezone=True), primary_key=True),
    Column("hits", Integer, nullable=False),
)
