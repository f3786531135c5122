"""harvest: declared sources pulled into the layers, every run of one, and reconciliations

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 17:00:00

A source's declaration (no secrets: credentials are named, read from the environment), its state
(last good run, failing since, the columns it had) and the runs with what each added, changed and
removed under its import job. A reconciliation of a layer with a register extract keeps its
counts and each finding (open until superseded or proposed as a correction for approval). The
documents of a feature (drawings, decisions) are versioned rows; their files live outside.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "harvest_sources",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("layer", sa.Text(), nullable=False),
        sa.Column("declaration", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("every_minutes", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_en", sa.Text(), nullable=True),
        sa.Column("columns", postgresql.JSONB(astext_type=sa.Text()), nullable=True,
                  comment="the source's columns at the last good run"),
        sa.CheckConstraint("every_minutes > 0", name="every_minutes_positive"),
        sa.CheckConstraint("name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'", name="name_slug"),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_harvest_sources")),
    )
    op.create_table(
        "harvest_runs",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("features", sa.Integer(), nullable=True),
        sa.Column("added", sa.Integer(), server_default="0", nullable=False),
        sa.Column("changed", sa.Integer(), server_default="0", nullable=False),
        sa.Column("removed", sa.Integer(), server_default="0", nullable=False),
        sa.Column("import_job", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("error_en", sa.Text(), nullable=True),
        sa.Column("seconds", sa.Double(), nullable=True),
        sa.CheckConstraint("status IN ('imported', 'unchanged', 'failed')", name="status_known"),
        sa.ForeignKeyConstraint(["import_job"], ["import_jobs.id"], name=op.f("fk_harvest_runs_import_job"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["source"], ["harvest_sources.name"], name=op.f("fk_harvest_runs_source"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_harvest_runs")),
    )
    op.create_index("ix_harvest_runs_source_started", "harvest_runs", ["source", "started_at"], unique=False)
    op.create_table(
        "reconciliations",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("layer", sa.Text(), nullable=False),
        sa.Column("scope", sa.Text(), server_default="", nullable=False, comment="commune code, or '' = all"),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("file_sha256", sa.Text(), nullable=False),
        sa.Column("spec", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("counts", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("run_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliations")),
    )
    op.create_index("ix_reconciliations_layer_scope", "reconciliations", ["layer", "scope"], unique=False)
    op.create_table(
        "reconciliation_findings",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("reconciliation", sa.BigInteger(), nullable=False),
        sa.Column("layer", sa.Text(), nullable=False),
        sa.Column("feature_id", sa.BigInteger(), nullable=True),
        sa.Column("register_key", sa.Text(), nullable=True),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("field", sa.Text(), nullable=True),
        sa.Column("layer_value", sa.Text(), nullable=True),
        sa.Column("register_value", sa.Text(), nullable=True),
        sa.Column("distance_m", sa.Double(), nullable=True),
        sa.Column("proposal", postgresql.JSONB(astext_type=sa.Text()), nullable=True,
                  comment="the correction a person may accept: {field: value}"),
        sa.Column("status", sa.Text(), server_default="open", nullable=False),
        sa.Column("edit_id", sa.BigInteger(), nullable=True),
        sa.CheckConstraint("kind IN ('attribute', 'position', 'key', 'missing_in_register', "
                           "'missing_in_layer', 'register_duplicate')", name="kind_known"),
        sa.CheckConstraint("status IN ('open', 'proposed', 'superseded')", name="status_known"),
        sa.ForeignKeyConstraint(["reconciliation"], ["reconciliations.id"], name=op.f("fk_reconciliation_findings_reconciliation"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_findings")),
    )
    op.create_index("ix_reconciliation_findings_reconciliation", "reconciliation_findings", ["reconciliation"], unique=False)
    op.create_index("ix_reconciliation_findings_layer_feature_id", "reconciliation_findings", ["layer", "feature_id"], unique=False)
    op.create_table(
        "feature_documents",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("layer", sa.Text(), nullable=False),
        sa.Column("feature_id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("extension", sa.Text(), nullable=False),
        sa.Column("content_type", sa.Text(), nullable=False),
        sa.Column("sha256", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("decision", sa.Text(), nullable=True, comment="the decision (số quyết định) this version was approved by"),
        sa.Column("uploaded_by", sa.Text(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("kind IN ('drawing', 'decision', 'report', 'image', 'other')", name="kind_known"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feature_documents")),
        sa.UniqueConstraint("layer", "feature_id", "title", "version", name=op.f("uq_feature_documents_layer_feature_id_title_version")),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("feature_documents")
    op.drop_table("reconciliation_findings")
    op.drop_table("reconciliations")
    op.drop_index("ix_harvest_runs_source_started", table_name="harvest_runs")
    op.drop_table("harvest_runs")
    op.drop_table("harvest_sources")
