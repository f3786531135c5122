"""feedback notices: the deadline sweep's warnings and escalations, once per case and deadline

Revision ID: 0021
Revises: 0025
Create Date: 2026-12-07 19:40:00

A warning before a case's deadline goes to its department, an escalation after it to the
operator; the unique key (request, kind, deadline) lets concurrent sweeps and retries raise each
exactly once. Staff mark a notice seen.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "feedback_notices",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("request_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("on_day", sa.Date(), nullable=False),
        sa.Column("days_left", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("seen_by", sa.Text(), nullable=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('warning', 'escalation')", name="notice_kind"),
        sa.ForeignKeyConstraint(["request_id"], ["feedback_requests.id"],
                                name=op.f("fk_feedback_notices_request_id"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_notices")),
        sa.UniqueConstraint("request_id", "kind", "due_on", name="uq_feedback_notices_once"),
    )
    op.create_index("ix_feedback_notices_unseen", "feedback_notices", ["recipient"], unique=False,
                    postgresql_where=sa.text("seen_at IS NULL"))


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_feedback_notices_unseen", table_name="feedback_notices",
                  postgresql_where=sa.text("seen_at IS NULL"))
    op.drop_table("feedback_notices")
