"""harvest: declared sources pulled into the layers, and every run of one

Revision ID: 0018
Revises: 0016
Create Date: 2026-12-07 17:00:00

A source's declaration (no secrets: credentials are named, read from the environment), its state
(last good run, failing since, the columns it had) and the runs with what each added, changed and
removed under its import job.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0018"
down_revision: str | None = "0016"
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


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_harvest_runs_source_started", table_name="harvest_runs")
    op.drop_table("harvest_runs")
    op.drop_table("harvest_sources")
