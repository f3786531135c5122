"""rate limits: request counts per caller and minute, shared by the workers

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 12:00:00

Work an anonymous caller can start (scenario runs, process executions, exports) and sign-in
attempts are counted here, so the limit holds across workers and survives a restart.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "rate_limits",
        sa.Column("bucket", sa.Text(), nullable=False),
        sa.Column("minute", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("bucket", "minute", name=op.f("pk_rate_limits")),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("rate_limits")
