"""feature_documents: an editor's document waits for approval like an edit

Revision ID: 0026
Revises: 0021
Create Date: 2026-12-07 19:45:00

A document uploaded by a department's editor is ``pending`` until an approver of the owning
department (never the submitter) approves it; only then does it get its version number. An
operator's upload is ``approved`` at once. Documents kept before this revision are approved.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.add_column("feature_documents", sa.Column("status", sa.Text(), server_default="approved",
                                                 nullable=False))
    op.add_column("feature_documents", sa.Column("reviewer", sa.Text(), nullable=True))
    op.add_column("feature_documents", sa.Column("reviewed_at", sa.DateTime(timezone=True),
                                                 nullable=True))
    op.add_column("feature_documents", sa.Column("reason", sa.Text(), nullable=True))
    op.alter_column("feature_documents", "version", existing_type=sa.Integer(), nullable=True,
                    comment="numbered when approved (a pending upload has none)")
    op.create_check_constraint(op.f("ck_feature_documents_status_known"), "feature_documents",
                               "status IN ('pending', 'approved', 'rejected')")
    op.create_check_constraint(op.f("ck_feature_documents_approved_has_version"),
                               "feature_documents", "(status = 'approved') = (version IS NOT NULL)")
    op.create_index("ix_feature_documents_pending", "feature_documents", ["layer"],
                    postgresql_where=sa.text("status = 'pending'"))


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_feature_documents_pending", table_name="feature_documents")
    op.execute("DELETE FROM feature_documents WHERE status <> 'approved'")
    op.drop_constraint(op.f("ck_feature_documents_approved_has_version"), "feature_documents",
                       type_="check")
    op.drop_constraint(op.f("ck_feature_documents_status_known"), "feature_documents",
                       type_="check")
    op.alter_column("feature_documents", "version", existing_type=sa.Integer(), nullable=False,
                    comment=None)
    for column in ("reason", "reviewed_at", "reviewer", "status"):
        op.drop_column("feature_documents", column)
