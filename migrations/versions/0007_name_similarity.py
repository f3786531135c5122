"""name similarity: pg_trgm, for the quality checks' near-duplicate names

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 15:25:00

Installed when the server offers it (PostgreSQL's contrib modules); without it the quality checks
compare names after normalising them.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.execute("DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = "
               "'pg_trgm') THEN CREATE EXTENSION IF NOT EXISTS pg_trgm; END IF; END $$")


def downgrade() -> None:
    """Revert this revision."""
    op.execute("DROP EXTENSION IF EXISTS pg_trgm")
