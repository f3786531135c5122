"""observations partitioned by month, hourly aggregates for the months whose raw rows are dropped

Revision ID: 0023
Revises: 0020
Create Date: 2026-12-07 19:20:00

``observations`` becomes a table partitioned by range of phenomenon time, one partition per UTC
month (``observations_YYYY_MM``), BRIN on phenomenon time; its rows are copied over, ids kept.
``observation_partition(time)`` creates the partition of a time when it is missing (a late
reading for a month never seen must not fail), serialised by an advisory lock. A statement
trigger notes the hours each insert touched in ``observation_changes``; the maintenance job rolls
them up into ``observation_hourly``. The downgrade copies the rows back into one plain table.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PARTITION_FUNCTION = """
CREATE FUNCTION observation_partition(t timestamptz) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  first timestamp := date_trunc('month', t AT TIME ZONE 'UTC');
  name text := 'observations_' || to_char(first, 'YYYY_MM');
BEGIN
  IF to_regclass(name) IS NULL THEN
    PERFORM pg_advisory_xact_lock(hashtext('observation_partition'));
    IF to_regclass(name) IS NULL THEN
      EXECUTE format('CREATE TABLE %I PARTITION OF observations FOR VALUES FROM (%L) TO (%L)',
                     name, first AT TIME ZONE 'UTC', (first + interval '1 month') AT TIME ZONE 'UTC');
    END IF;
  END IF;
  RETURN name;
END $$
"""

CHANGES_TRIGGER = """
CREATE FUNCTION observation_changes_note() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO observation_changes (datastream_id, hour)
  SELECT DISTINCT datastream_id, date_trunc('hour', phenomenon_time AT TIME ZONE 'UTC')
    AT TIME ZONE 'UTC' FROM new_rows;
  RETURN NULL;
END $$;
CREATE TRIGGER observations_note_changes AFTER INSERT ON observations
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION observation_changes_note()
"""


def _rename_old() -> None:
    op.execute("ALTER TABLE observations RENAME TO observations_old")
    for old in ("pk_observations", "uq_observations_datastream_id_phenomenon_time",
                "fk_observations_datastream_id"):
        op.execute(f"ALTER TABLE observations_old RENAME CONSTRAINT {old} TO {old}_old")
    op.execute("ALTER INDEX ix_observations_phenomenon_time RENAME TO ix_observations_old_time")


def _columns() -> list[sa.Column]:
    return [
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("datastream_id", sa.BigInteger(), nullable=False),
        sa.Column("phenomenon_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("result", sa.Double(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True),
                  server_default=sa.text("clock_timestamp()"), nullable=False,
                  comment="when the row was written"),
        sa.ForeignKeyConstraint(["datastream_id"], ["datastreams.id"],
                                name=op.f("fk_observations_datastream_id"), ondelete="CASCADE"),
        sa.UniqueConstraint("datastream_id", "phenomenon_time",
                            name=op.f("uq_observations_datastream_id_phenomenon_time")),
    ]


def _copy_and_drop_old() -> None:
    op.execute("INSERT INTO observations (id, datastream_id, phenomenon_time, result, received_at) "
               "SELECT id, datastream_id, phenomenon_time, result, received_at "
               "FROM observations_old ORDER BY phenomenon_time")
    op.execute("SELECT setval(pg_get_serial_sequence('observations', 'id'), "
               "coalesce((SELECT max(id) FROM observations), 0) + 1, false)")
    op.execute("DROP TABLE observations_old")


def upgrade() -> None:
    """Apply this revision."""
    op.create_table("observation_changes",
    sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column("datastream_id", sa.BigInteger(), nullable=False),
    sa.Column("hour", sa.DateTime(timezone=True), nullable=False,
              comment="an hour with new observations, not yet rolled up"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_observation_changes"))
    )
    op.create_table("observation_hourly",
    sa.Column("datastream_id", sa.BigInteger(), nullable=False),
    sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
    sa.Column("n", sa.BigInteger(), nullable=False),
    sa.Column("min", sa.Double(), nullable=False),
    sa.Column("max", sa.Double(), nullable=False),
    sa.Column("sum", sa.Double(), nullable=False),
    sa.ForeignKeyConstraint(["datastream_id"], ["datastreams.id"],
                            name=op.f("fk_observation_hourly_datastream_id"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("datastream_id", "hour", name=op.f("pk_observation_hourly"))
    )
    _rename_old()
    op.create_table("observations", *_columns(),
                    sa.PrimaryKeyConstraint("id", "phenomenon_time", name=op.f("pk_observations")),
                    postgresql_partition_by="RANGE (phenomenon_time)")
    op.create_index("ix_observations_phenomenon_time", "observations", ["phenomenon_time"],
                    unique=False, postgresql_using="brin")
    op.execute(PARTITION_FUNCTION)
    op.execute(CHANGES_TRIGGER)
    # Every month of the old rows, and this month and the next two.
    op.execute("SELECT observation_partition(m) FROM (SELECT DISTINCT date_trunc('month', "
               "phenomenon_time AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' m FROM observations_old "
               "UNION SELECT now() + make_interval(months => k) FROM generate_series(0, 2) k) s")
    _copy_and_drop_old()


def downgrade() -> None:
    """Revert this revision."""
    _rename_old()
    op.execute("DROP TRIGGER observations_note_changes ON observations_old")
    op.execute("DROP FUNCTION observation_changes_note()")
    op.execute("DROP FUNCTION observation_partition(timestamptz)")
    op.create_table("observations", *_columns(),
                    sa.PrimaryKeyConstraint("id", name=op.f("pk_observations")))
    op.create_index("ix_observations_phenomenon_time", "observations", ["phenomenon_time"],
                    unique=False, postgresql_using="brin")
    _copy_and_drop_old()
    op.drop_table("observation_hourly")
    op.drop_table("observation_changes")
