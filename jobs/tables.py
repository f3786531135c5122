"""The progress and result of each background job (migration 0012), kept beside the queue.

The queue itself (procrastinate's tables, in the ``procrastinate`` schema) says whether a job
waits, runs, succeeded or failed; this table says how far it got and what came of it, for the
progress URL that outlives a closed browser or a restarted worker.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Float, Table, Text, func, text
from sqlalchemy.dialects.postgresql import JSON

from layers.tables import metadata

JOB_RESULTS = Table(
    "job_results", metadata,
    Column("job_id", BigInteger, primary_key=True),  # procrastinate's job id
    Column("kind", Text, nullable=False),  # e.g. 'import'
    Column("owner", Text),  # the account that started it (None: the schedule)
    Column("progress", Float, nullable=False, server_default=text("0")),
    Column("stage", Text),
    Column("result", JSON),  # json, not jsonb: the answer keeps its order
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
