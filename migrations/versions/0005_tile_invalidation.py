"""tile invalidation: the boxes of changed features, written by triggers on every layer table

Revision ID: 0005
Revises: 0007
Create Date: 2026-11-30 14:45:00

A cached tile must go when a feature it shows changes, and only then. Statement triggers with
transition tables write, per changed feature, its old and its new bounding box with the layer's
new data version; the tile cache reads the rows past the version it last applied and drops the
tiles those boxes touch. The triggers run after the feature-count triggers (names sort after
``ioc_count_*``), so the layer's row in feature_counts is locked: versions of one layer appear in
commit order. A statement changing more than BULK rows writes boxes per 0.01° cell instead.

The order is not the number: this revision was written beside 0006 and 0007 and chained after
them when the branches were merged, so the history runs 0004, 0006, 0007, 0005, 0008. Revision ids
are names that databases already record (``alembic_version``), so they stay as they are; follow
``down_revision``, not the file names, to read the order (``alembic history`` prints it).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The layer tables when this revision was written (frozen: a later layer brings its own triggers).
LAYER_TABLES = (
    "province", "communes", "planning_zones", "land_parcels", "construction_permits", "housing",
    "roads", "power_lines", "water_network", "schools", "health_facilities", "trees", "stations",
    "iot_stations",
)
BULK = 1000
# name, event, transition tables, the boxes selected (from ``changed``: kind, id, box)
TRIGGERS = (
    ("ioc_tiles_insert", "INSERT", "REFERENCING NEW TABLE AS new_rows",
     "SELECT 'n' AS kind, id, geom::box2d AS b FROM new_rows"),
    ("ioc_tiles_delete", "DELETE", "REFERENCING OLD TABLE AS old_rows",
     "SELECT 'o' AS kind, id, geom::box2d AS b FROM old_rows"),
    ("ioc_tiles_update", "UPDATE", "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
     "SELECT 'o' AS kind, id, geom::box2d AS b FROM old_rows "
     "UNION ALL SELECT 'n', id, geom::box2d FROM new_rows"),
)


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "tile_changes",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("layer", sa.Text(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("minx", sa.Double(), nullable=True),
        sa.Column("miny", sa.Double(), nullable=True),
        sa.Column("maxx", sa.Double(), nullable=True),
        sa.Column("maxy", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tile_changes")),
    )
    op.create_index("ix_tile_changes_layer_version", "tile_changes", ["layer", "version"])
    # Only the constants above are formatted into these statements.
    for name, _, _, boxes in TRIGGERS:
        op.execute(
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "  # noqa: S608
            "DECLARE v bigint; n bigint; BEGIN "
            "SELECT version INTO v FROM feature_counts WHERE layer = TG_TABLE_NAME; "
            f"WITH changed AS MATERIALIZED ({boxes}) SELECT count(*) INTO n FROM changed; "
            f"INSERT INTO tile_changes (layer, version, minx, miny, maxx, maxy) "
            f"SELECT TG_TABLE_NAME, coalesce(v, 0), min(ST_XMin(b)), min(ST_YMin(b)), "
            f"max(ST_XMax(b)), max(ST_YMax(b)) FROM ({boxes}) changed "
            f"GROUP BY CASE WHEN n <= {BULK} THEN kind || id::text "
            "ELSE floor(ST_XMin(b) * 100)::text || ',' || floor(ST_YMin(b) * 100)::text END; "
            "RETURN NULL; END $$"
        )
    op.execute(
        "CREATE FUNCTION ioc_tiles_truncate() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "INSERT INTO tile_changes (layer, version) SELECT TG_TABLE_NAME, coalesce(("
        "SELECT version FROM feature_counts WHERE layer = TG_TABLE_NAME), 0); RETURN NULL; END $$"
    )
    for table in LAYER_TABLES:
        for name, event, transition, _ in TRIGGERS:
            op.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} {transition} "
                       f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()")
        op.execute(f"CREATE TRIGGER ioc_tiles_truncate AFTER TRUNCATE ON {table} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION ioc_tiles_truncate()")


def downgrade() -> None:
    """Revert this revision."""
    names = [name for name, *_ in TRIGGERS] + ["ioc_tiles_truncate"]
    for table in LAYER_TABLES:
        for name in names:
            op.execute(f"DROP TRIGGER {name} ON {table}")
    for name in names:
        op.execute(f"DROP FUNCTION {name}()")
    op.drop_table("tile_changes")
