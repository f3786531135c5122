"""intake sequencer: audit entries and feedback-layer counts appended without a shared lock

Revision ID: 0020
Revises: 0026
Create Date: 2026-12-07 19:20:00

Each citizen report used to take three locks held until its commit (and its WAL flush): the
rate-limit row, the audit chain's lock and the feedback layer's row in ``feature_counts``, so
reports were stored one after another. Now a report appends: its audit entry to
``audit_pending`` and its layer change (count and tile box) to ``feature_count_pending``; a
sequencer step chains the entries into ``audit_log`` under the chain's lock and folds the changes
into ``feature_counts`` and ``tile_changes`` (``ioc_fold_feature_changes``), many reports per
step. Versions still appear in commit order: only the fold moves the layer's version, under the
count row's lock, as the update and delete triggers of migration 0015 do. And the public layer's
rounded geometry gets its own index.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0020"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BOX = "ST_Expand(geom, 0.006)::box2d"  # as migration 0015: the box covers the public rounding
# Every pending change folded at once: counts added, one new version per layer, the boxes written
# to tile_changes with it (whose trigger, migration 0019, notifies the tile caches at commit).
FOLD = (
    "CREATE FUNCTION ioc_fold_feature_changes() RETURNS bigint LANGUAGE sql AS $$ "
    "WITH gone AS (DELETE FROM feature_count_pending RETURNING layer, n, minx, miny, maxx, maxy), "
    "per AS (SELECT layer, sum(n) AS n FROM gone GROUP BY layer), "
    "bumped AS (UPDATE feature_counts c SET n = c.n + per.n, version = nextval('feature_version') "
    "FROM per WHERE c.layer = per.layer RETURNING c.layer, c.version), "
    "boxes AS (INSERT INTO tile_changes (layer, version, minx, miny, maxx, maxy) "
    "SELECT g.layer, b.version, g.minx, g.miny, g.maxx, g.maxy FROM gone g JOIN bumped b "
    "USING (layer) RETURNING 1) "
    "SELECT coalesce(sum(n), 0)::bigint FROM per $$"
)
PENDING_INSERT = (
    "CREATE FUNCTION ioc_fp_pending_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "INSERT INTO feature_count_pending (layer, n, minx, miny, maxx, maxy) "
    "SELECT 'feedback_points', count(*), min(ST_XMin(b)), min(ST_YMin(b)), max(ST_XMax(b)), "
    f"max(ST_YMax(b)) FROM (SELECT {BOX} AS b FROM new_rows) changed "
    "GROUP BY floor(ST_XMin(b) * 100), floor(ST_YMin(b) * 100); RETURN NULL; END $$"
)
# A truncate empties the layer: its count is 0 and nothing pending is left to add.
TRUNCATE = (
    "CREATE OR REPLACE FUNCTION ioc_fp_count_truncate() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN DELETE FROM feature_count_pending WHERE layer = 'feedback_points'; "
    "UPDATE feature_counts SET n = 0, version = nextval('feature_version') "
    "WHERE layer = 'feedback_points'; RETURN NULL; END $$"
)
# Migration 0015's insert triggers, restored by the downgrade.
OLD_COUNT_INSERT = (
    "CREATE FUNCTION ioc_fp_count_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "UPDATE feature_counts SET n = n + (SELECT count(*) FROM changed_rows), "
    "version = nextval('feature_version') WHERE layer = 'feedback_points'; RETURN NULL; END $$"
)
OLD_TILES_INSERT = (
    "CREATE FUNCTION ioc_fp_tiles_insert() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "DECLARE v bigint; BEGIN "
    "SELECT version INTO v FROM feature_counts WHERE layer = 'feedback_points'; "
    "INSERT INTO tile_changes (layer, version, minx, miny, maxx, maxy) "
    "SELECT 'feedback_points', coalesce(v, 0), min(ST_XMin(b)), min(ST_YMin(b)), "
    f"max(ST_XMax(b)), max(ST_YMax(b)) FROM (SELECT {BOX} AS b FROM new_rows) changed "
    "GROUP BY floor(ST_XMin(b) * 100), floor(ST_YMin(b) * 100); RETURN NULL; END $$"
)
OLD_TRUNCATE = (
    "CREATE OR REPLACE FUNCTION ioc_fp_count_truncate() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN UPDATE feature_counts SET n = 0, version = nextval('feature_version') "
    "WHERE layer = 'feedback_points'; RETURN NULL; END $$"
)


# The public layer's geometry is computed (rounded, migration 0015): an index on that very
# expression lets a tile or bbox on ``feedback_points`` use it instead of reading every report.
PUBLIC_GEOM_INDEX = (
    "CREATE INDEX ix_feedback_requests_public_geom ON feedback_requests USING gist "
    "((ST_SnapToGrid(geom, CASE WHEN sensitive THEN 0.01 ELSE 0.001 END)::geometry(Point, 4326)))"
)


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "audit_pending",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.Text(), nullable=True),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("target", sa.Text(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("client_ip", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()),
                  server_default=sa.text("'{}'::jsonb"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_pending")),
    )
    op.create_table(
        "feature_count_pending",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("layer", sa.Text(), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.Column("minx", sa.Double(), nullable=True),
        sa.Column("miny", sa.Double(), nullable=True),
        sa.Column("maxx", sa.Double(), nullable=True),
        sa.Column("maxy", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feature_count_pending")),
    )
    op.execute(FOLD)
    for name in ("ioc_fp_count_insert", "ioc_fp_tiles_insert"):
        op.execute(f"DROP TRIGGER {name} ON feedback_requests")
        op.execute(f"DROP FUNCTION {name}()")
    op.execute(PENDING_INSERT)
    op.execute("CREATE TRIGGER ioc_fp_pending_insert AFTER INSERT ON feedback_requests "
               "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
               "EXECUTE FUNCTION ioc_fp_pending_insert()")
    op.execute(TRUNCATE)
    op.execute(PUBLIC_GEOM_INDEX)


def downgrade() -> None:
    """Revert this revision (pending layer changes are folded first)."""
    # Entries not yet chained would go with their table: refuse, chain them first.
    op.execute("DO $$ BEGIN IF EXISTS (SELECT 1 FROM audit_pending) THEN RAISE EXCEPTION "
               "'audit entries are waiting to be chained: run ioc audit --verify first'; "
               "END IF; END $$")
    op.execute("SELECT ioc_fold_feature_changes()")
    op.execute("DROP INDEX ix_feedback_requests_public_geom")
    op.execute("DROP TRIGGER ioc_fp_pending_insert ON feedback_requests")
    op.execute("DROP FUNCTION ioc_fp_pending_insert()")
    op.execute(OLD_TRUNCATE)
    op.execute(OLD_COUNT_INSERT)
    op.execute("CREATE TRIGGER ioc_fp_count_insert AFTER INSERT ON feedback_requests "
               "REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT "
               "EXECUTE FUNCTION ioc_fp_count_insert()")
    op.execute(OLD_TILES_INSERT)
    op.execute("CREATE TRIGGER ioc_fp_tiles_insert AFTER INSERT ON feedback_requests "
               "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
               "EXECUTE FUNCTION ioc_fp_tiles_insert()")
    op.execute("DROP FUNCTION ioc_fold_feature_changes()")
    op.drop_table("feature_count_pending")
    op.drop_table("audit_pending")
