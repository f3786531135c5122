"""feature counts: exact row count and data version per layer, kept by triggers

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 13:05:00

Items pages report ``numberMatched``; counting a large table on every request costs more than
the page itself. Statement-level triggers keep the exact count and a version number that moves
with every change, so counts are O(1) and caches know when they are stale.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LAYER_TABLES = (
    "province", "communes", "planning_zones", "land_parcels", "construction_permits", "housing",
    "roads", "power_lines", "water_network", "schools", "health_facilities", "trees", "stations",
    "iot_stations",
)
FUNCTIONS = {
    "ioc_count_insert": "n = n + (SELECT count(*) FROM changed_rows)",
    "ioc_count_delete": "n = n - (SELECT count(*) FROM changed_rows)",
    "ioc_count_update": "n = n",
    "ioc_count_truncate": "n = 0",
}
TRIGGERS = (  # name, event, transition table
    ("ioc_count_insert", "INSERT", "REFERENCING NEW TABLE AS changed_rows"),
    ("ioc_count_delete", "DELETE", "REFERENCING OLD TABLE AS changed_rows"),
    ("ioc_count_update", "UPDATE", ""),
    ("ioc_count_truncate", "TRUNCATE", ""),
)


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "feature_counts",
        sa.Column("layer", sa.Text(), nullable=False),
        sa.Column("n", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("version", sa.BigInteger(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("layer", name=op.f("pk_feature_counts")),
    )
    # The version comes from a sequence: never reused, even by a rolled-back transaction.
    op.execute("CREATE SEQUENCE feature_version")
    # Only the constants above are formatted into these statements.
    for name, change in FUNCTIONS.items():
        op.execute(
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "  # noqa: S608
            f"UPDATE feature_counts SET {change}, version = nextval('feature_version') "
            "WHERE layer = TG_TABLE_NAME; RETURN NULL; END $$"
        )
    for table in LAYER_TABLES:
        for name, event, transition in TRIGGERS:
            op.execute(
                f"CREATE TRIGGER {name} AFTER {event} ON {table} {transition} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
            )
        op.execute(f"INSERT INTO feature_counts (layer, n) SELECT '{table}', count(*) FROM {table}")  # noqa: S608


def downgrade() -> None:
    """Revert this revision."""
    for table in LAYER_TABLES:
        for name, _, _ in TRIGGERS:
            op.execute(f"DROP TRIGGER {name} ON {table}")
    for name in FUNCTIONS:
        op.execute(f"DROP FUNCTION {name}()")
    op.drop_table("feature_counts")
    op.execute("DROP SEQUENCE feature_version")
