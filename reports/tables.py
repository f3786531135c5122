"""The generated reports: each file with the snapshot of the figures it shows (migration 0016)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Double,
    Identity,
    Index,
    LargeBinary,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from layers.tables import metadata

FORMATS = ("docx", "pdf", "xlsx")

# One row per generated file. ``figures`` is the snapshot (every figure with the query that made
# it), ``figures_sha256`` its hash, ``layer_versions`` the data version of every layer read
# (feature_counts.version), ``as_of`` the moment the layers were read at.
REPORT_RUNS = Table(
    "report_runs", metadata,
    Column("id", BigInteger, Identity(always=False), primary_key=True),
    Column("definition", Text, nullable=False),
    Column("period", Text, nullable=False),
    Column("params", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("format", Text, nullable=False),
    Column("number", Text, nullable=False, comment="số và ký hiệu, e.g. 12/BC-TTĐHTM"),
    Column("generated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("generated_by", Text, nullable=False),
    Column("as_of", DateTime(timezone=True), nullable=False),
    Column("figures", JSONB, nullable=False),
    Column("figures_sha256", Text, nullable=False),
    Column("layer_versions", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("file_name", Text, nullable=False),
    Column("file_sha256", Text, nullable=False, index=True),
    Column("file_size", BigInteger, nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("seconds", Double, nullable=False),
    CheckConstraint(f"format IN {FORMATS!r}", name="ck_report_runs_format"),
)
Index(None, REPORT_RUNS.c.definition, REPORT_RUNS.c.period)
