"""reports: every generated report file with the snapshot of its figures

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 16:00:00

A report is verified later against its row: the file's SHA-256, the figures it printed (and
their hash), the moment the layers were read at and the data version of every layer read.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "report_runs",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("period", sa.Text(), nullable=False),
        sa.Column("params", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
        sa.Column("format", sa.Text(), nullable=False),
        sa.Column("number", sa.Text(), nullable=False, comment="số và ký hiệu, e.g. 12/BC-TTĐHTM"),
        sa.Column("generated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("generated_by", sa.Text(), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("figures", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("figures_sha256", sa.Text(), nullable=False),
        sa.Column("layer_versions", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("file_sha256", sa.Text(), nullable=False),
        sa.Column("file_size", sa.BigInteger(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("seconds", sa.Double(), nullable=False),
        sa.CheckConstraint("format IN ('docx', 'pdf', 'xlsx')", name="ck_report_runs_format"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_runs")),
    )
    op.create_index(op.f("ix_report_runs_definition_period"), "report_runs", ["definition", "period"], unique=False)
    op.create_index(op.f("ix_report_runs_file_sha256"), "report_runs", ["file_sha256"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index(op.f("ix_report_runs_file_sha256"), table_name="report_runs")
    op.drop_index(op.f("ix_report_runs_definition_period"), table_name="report_runs")
    op.drop_table("report_runs")
