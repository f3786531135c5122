"""The tables of harvest (migration 0018): the declared sources and their runs, the
reconciliations with the registers and their findings, and the documents of features."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB

from layers.tables import metadata

RUN_STATUSES = ("imported", "unchanged", "failed")

# One row per source: its declaration (as the operator wrote it, without secrets) and its state.
# ``claimed_at`` marks a run under way: a second runner skips the source until it ends.
HARVEST_SOURCES = Table(
    "harvest_sources", metadata,
    Column("name", Text, primary_key=True),
    Column("layer", Text, nullable=False),
    Column("declaration", JSONB, nullable=False),
    Column("enabled", Boolean, nullable=False, server_default=true()),
    Column("every_minutes", Integer, nullable=False),
    Column("created_by", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("claimed_at", DateTime(timezone=True)),
    Column("last_run_at", DateTime(timezone=True)),
    Column("last_success_at", DateTime(timezone=True)),
    Column("failing_since", DateTime(timezone=True)),
    Column("last_error", Text),
    Column("last_error_en", Text),
    Column("columns", JSONB, comment="the source's columns at the last good run"),
    CheckConstraint("every_minutes > 0", name="every_minutes_positive"),
    CheckConstraint("name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'", name="name_slug"),
)

HARVEST_RUNS = Table(
    "harvest_runs", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("source", Text, ForeignKey("harvest_sources.name", ondelete="CASCADE"), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("finished_at", DateTime(timezone=True)),
    Column("status", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("features", Integer),
    Column("added", Integer, nullable=False, server_default="0"),
    Column("changed", Integer, nullable=False, server_default="0"),
    Column("removed", Integer, nullable=False, server_default="0"),
    Column("import_job", BigInteger, ForeignKey("import_jobs.id", ondelete="SET NULL")),
    Column("error", Text),
    Column("error_en", Text),
    Column("seconds", Double),
    CheckConstraint("status IN ('imported', 'unchanged', 'failed')", name="status_known"),
    Index("ix_harvest_runs_source_started", "source", "started_at"),
)

# A comparison of a layer with an authoritative extract (the cadastral or population register):
# the counts and the full report; ``findings`` hold each disagreement, ``open`` until a newer
# reconciliation of the same layer and scope supersedes it, or a correction is proposed.
RECONCILIATIONS = Table(
    "reconciliations", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("layer", Text, nullable=False),
    Column("scope", Text, nullable=False, server_default="", comment="commune code, or '' = all"),
    Column("file_name", Text, nullable=False),
    Column("file_sha256", Text, nullable=False),
    Column("spec", JSONB, nullable=False),
    Column("counts", JSONB, nullable=False),
    Column("actor", Text, nullable=False),
    Column("run_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_reconciliations_layer_scope", "layer", "scope"),
)

FINDING_KINDS = ("attribute", "position", "key", "missing_in_register", "missing_in_layer",
                 "register_duplicate")
FINDING_STATUSES = ("open", "proposed", "superseded")

RECONCILIATION_FINDINGS = Table(
    "reconciliation_findings", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("reconciliation", BigInteger, ForeignKey("reconciliations.id", ondelete="CASCADE"),
           nullable=False),
    Column("layer", Text, nullable=False),
    Column("feature_id", BigInteger),
    Column("register_key", Text),
    Column("kind", Text, nullable=False),
    Column("field", Text),
    Column("layer_value", Text),
    Column("register_value", Text),
    Column("distance_m", Double),
    Column("proposal", JSONB, comment="the correction a person may accept: {field: value}"),
    Column("status", Text, nullable=False, server_default="open"),
    Column("edit_id", BigInteger),
    CheckConstraint("kind IN ('attribute', 'position', 'key', 'missing_in_register', "
                    "'missing_in_layer', 'register_duplicate')", name="kind_known"),
    CheckConstraint("status IN ('open', 'proposed', 'superseded')", name="status_known"),
    Index("ix_reconciliation_findings_reconciliation", "reconciliation"),
    Index("ix_reconciliation_findings_layer_feature_id", "layer", "feature_id"),
)

# Documents attached to a feature (plans, permits): each version of a title is a row; the file is
# kept outside the database under ``<var>/documents/`` by its SHA-256.
FEATURE_DOCUMENTS = Table(
    "feature_documents", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("layer", Text, nullable=False),
    Column("feature_id", BigInteger, nullable=False),
    Column("title", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("version", Integer, comment="numbered when approved (a pending upload has none)"),
    Column("file_name", Text, nullable=False),
    Column("extension", Text, nullable=False),
    Column("content_type", Text, nullable=False),
    Column("sha256", Text, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("decision", Text, comment="the decision (số quyết định) this version was approved by"),
    Column("uploaded_by", Text, nullable=False),
    Column("uploaded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # A department editor's upload waits for an approver of the owning department (migration 0026).
    Column("status", Text, nullable=False, server_default="approved"),
    Column("reviewer", Text),
    Column("reviewed_at", DateTime(timezone=True)),
    Column("reason", Text),
    CheckConstraint("kind IN ('drawing', 'decision', 'report', 'image', 'other')",
                    name="kind_known"),
    CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="status_known"),
    CheckConstraint("(status = 'approved') = (version IS NOT NULL)", name="approved_has_version"),
    UniqueConstraint("layer", "feature_id", "title", "version"),
    Index("ix_feature_documents_pending", "layer", postgresql_where=text("status = 'pending'")),
)
