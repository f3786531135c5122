"""pending imports: an import awaiting approval is a pending edit holding its job and its file

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 14:00:00

Imports follow the rule of edits: a caller whose writes wait for approval submits a checked file
that an approver applies later. The pending edit (``op = 'import'``) points to its import job
and keeps the uploaded file as a PostgreSQL large object (``staged_file``), streamed in and out
and removed in the transaction that reviews it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EDIT_OPS = "op IN ('create', 'replace', 'update', 'delete')"


def upgrade() -> None:
    """Apply this revision."""
    op.add_column("pending_edits", sa.Column("import_job", sa.BigInteger()))
    op.add_column("pending_edits", sa.Column("staged_file", postgresql.OID()))
    op.create_foreign_key(op.f("fk_pending_edits_import_job"), "pending_edits", "import_jobs",
                          ["import_job"], ["id"])
    op.drop_constraint("ck_pending_edits_op", "pending_edits", type_="check")
    op.create_check_constraint("ck_pending_edits_op", "pending_edits",
                               "op IN ('create', 'replace', 'update', 'delete', 'import')")


def downgrade() -> None:
    """Revert this revision (pending imports and their files go)."""
    # Large objects are not removed with the rows that name them.
    op.execute("SELECT lo_unlink(staged_file) FROM pending_edits WHERE staged_file IS NOT NULL")
    op.execute("DELETE FROM pending_edits WHERE op = 'import'")
    op.drop_constraint("ck_pending_edits_op", "pending_edits", type_="check")
    op.create_check_constraint("ck_pending_edits_op", "pending_edits", EDIT_OPS)
    op.drop_constraint(op.f("fk_pending_edits_import_job"), "pending_edits", type_="foreignkey")
    op.drop_column("pending_edits", "staged_file")
    op.drop_column("pending_edits", "import_job")
