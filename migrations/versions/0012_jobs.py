"""jobs: procrastinate's queue in its own schema, and the progress and result of each job

Revision ID: 0012
Revises: 0013
Create Date: 2026-12-07 16:00:00

The queue's tables and functions are procrastinate's own schema SQL, shipped in the package at
the pinned version, applied into the ``procrastinate`` schema so none of its names meets ours.
``job_results`` keeps what a job reports (progress, stage, result) for its progress URL.
"""

from collections.abc import Sequence
from importlib import resources

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "procrastinate"


def upgrade() -> None:
    """Apply this revision."""
    schema_sql = (resources.files("procrastinate.sql") / "schema.sql").read_text(encoding="utf-8")
    bind = op.get_bind()
    previous = bind.exec_driver_sql("SHOW search_path").scalar()
    bind.exec_driver_sql(f"CREATE SCHEMA {SCHEMA}")
    bind.exec_driver_sql(f"SET search_path TO {SCHEMA}")
    # The driver's own cursor: the script has % and : that a bound statement would read as
    # parameters.
    with bind.connection.dbapi_connection.cursor() as cur:
        cur.execute(schema_sql)
    bind.exec_driver_sql(f"SET search_path TO {previous}")
    op.create_table(
        "job_results",
        sa.Column("job_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("owner", sa.Text(), nullable=True),
        sa.Column("progress", sa.Float(), server_default=sa.text("0"), nullable=False),
        sa.Column("stage", sa.Text(), nullable=True),
        sa.Column("result", postgresql.JSON(astext_type=sa.Text()), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.PrimaryKeyConstraint("job_id", name=op.f("pk_job_results")),
    )


def downgrade() -> None:
    """Revert this revision (the queue and every job's record go)."""
    op.drop_table("job_results")
    op.execute(f"DROP SCHEMA {SCHEMA} CASCADE")
