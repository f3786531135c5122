"""edit base: each pending edit keeps the feature as it was when the edit arrived

Revision ID: 0008
Revises: 0005
Create Date: 2026-12-01 09:00:00

Writes without ``If-Match`` (QGIS sends none) are checked field by field at approval: the edit
applies only if the fields it changes still hold the values they had when it arrived, so
``base`` keeps that version of the feature. ``if_match`` marks edits whose submitter sent an
ETag: those keep the exact-version rule. Every edit made before this revision was submitted with
``If-Match`` (it was required), so existing edits of existing features are marked so.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.add_column("pending_edits", sa.Column("base", postgresql.JSONB()))
    op.add_column("pending_edits", sa.Column("if_match", sa.Boolean(), nullable=False,
                                             server_default=sa.false()))
    # Before this revision a change or deletion could not be submitted without If-Match.
    op.execute("UPDATE pending_edits SET if_match = true WHERE op <> 'create'")


def downgrade() -> None:
    """Revert this revision."""
    op.drop_column("pending_edits", "if_match")
    op.drop_column("pending_edits", "base")
