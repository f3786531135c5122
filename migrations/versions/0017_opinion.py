"""opinion: items gathered from news and social sources, skipped inputs, the opinion_points view

Revision ID: 0017
Revises: 0019
Create Date: 2026-12-07 16:52:48

Posts and articles fetched from the declared sources (opinion/sources.py), each kept once, with
their sector, tone, urgency and commune; what a run skipped and why; and the public layer
``opinion_points`` (layers/catalog/opinion_points.py): placed items without author or text.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision: str = '0017'
down_revision: str | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LAYER = "opinion_points"
VIEW = (
    f"CREATE VIEW {LAYER} AS SELECT i.id, i.geom::geometry(Point, 4326) AS geom, i.sector, "
    "i.tone, i.urgent, i.commune_code, i.published_at, i.fetched_at AS created_at, "
    "i.fetched_at AS updated_at, NULL::text AS source_dataset, NULL::text AS source_key, "
    "NULL::bigint AS import_job FROM opinion_items i WHERE i.geom IS NOT NULL")
# Its count, data version and changed tile boxes are kept like a layer table's (migrations 0002,
# 0005 and 0015), by statement triggers on opinion_items.
COUNT = {
    "ioc_op_count_insert": ("INSERT", "REFERENCING NEW TABLE AS changed_rows",
                            "n = n + (SELECT count(*) FROM changed_rows WHERE geom IS NOT NULL)"),
    "ioc_op_count_delete": ("DELETE", "REFERENCING OLD TABLE AS changed_rows",
                            "n = n - (SELECT count(*) FROM changed_rows WHERE geom IS NOT NULL)"),
    "ioc_op_count_update": ("UPDATE", "", f"n = (SELECT count(*) FROM {LAYER})"),
    "ioc_op_count_truncate": ("TRUNCATE", "", "n = 0"),
}
BOX = "ST_Expand(geom, 0.001)::box2d"
TILES = {
    "ioc_op_tiles_insert": ("INSERT", "REFERENCING NEW TABLE AS new_rows",
                            f"SELECT {BOX} AS b FROM new_rows WHERE geom IS NOT NULL"),
    "ioc_op_tiles_delete": ("DELETE", "REFERENCING OLD TABLE AS old_rows",
                            f"SELECT {BOX} AS b FROM old_rows WHERE geom IS NOT NULL"),
    "ioc_op_tiles_update": ("UPDATE", "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
                            f"SELECT {BOX} AS b FROM old_rows WHERE geom IS NOT NULL "
                            f"UNION ALL SELECT {BOX} FROM new_rows WHERE geom IS NOT NULL"),
}


def _layer_triggers() -> None:
    op.execute(VIEW)
    op.execute(f"INSERT INTO feature_counts (layer, n) VALUES ('{LAYER}', 0)")
    for name, (event, transition, change) in COUNT.items():
        op.execute(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                   f"UPDATE feature_counts SET {change}, version = nextval('feature_version') "
                   f"WHERE layer = '{LAYER}'; RETURN NULL; END $$")
        op.execute(f"CREATE TRIGGER {name} AFTER {event} ON opinion_items {transition} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()")
    for name, (event, transition, boxes) in TILES.items():
        op.execute(
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "DECLARE v bigint; BEGIN "
            f"SELECT version INTO v FROM feature_counts WHERE layer = '{LAYER}'; "
            "INSERT INTO tile_changes (layer, version, minx, miny, maxx, maxy) "
            f"SELECT '{LAYER}', coalesce(v, 0), min(ST_XMin(b)), min(ST_YMin(b)), "
            f"max(ST_XMax(b)), max(ST_YMax(b)) FROM ({boxes}) changed "
            "GROUP BY floor(ST_XMin(b) * 100), floor(ST_YMin(b) * 100); RETURN NULL; END $$")
        op.execute(f"CREATE TRIGGER {name} AFTER {event} ON opinion_items {transition} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()")


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('opinion_skips',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('ref', sa.Text(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opinion_skips'))
    )
    op.create_geospatial_table('opinion_items',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('url', sa.Text(), nullable=True),
    sa.Column('text_key', sa.Text(), nullable=False),
    sa.Column('signature', postgresql.ARRAY(sa.BigInteger()), nullable=False),
    sa.Column('bands', postgresql.ARRAY(sa.BigInteger()), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('author', sa.Text(), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('fetched_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('sector', sa.Text(), nullable=False),
    sa.Column('tone', sa.Text(), nullable=False),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('commune_code', sa.Text(), nullable=True),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('case_id', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['feedback_requests.id'], name=op.f('fk_opinion_items_case_id'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opinion_items')),
    sa.UniqueConstraint('text_key', name=op.f('uq_opinion_items_text_key')),
    sa.UniqueConstraint('url', name=op.f('uq_opinion_items_url'))
    )
    op.create_geospatial_index('idx_opinion_items_geom', 'opinion_items', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index('ix_opinion_items_bands', 'opinion_items', ['bands'], unique=False, postgresql_using='gin')
    op.create_index('ix_opinion_items_published', 'opinion_items', ['published_at'], unique=False)
    _layer_triggers()


def downgrade() -> None:
    """Revert this revision."""
    for name in (*COUNT, *TILES):
        op.execute(f"DROP TRIGGER {name} ON opinion_items")
        op.execute(f"DROP FUNCTION {name}()")
    op.execute(f"DROP VIEW {LAYER}")
    op.execute(f"DELETE FROM feature_counts WHERE layer = '{LAYER}'")
    op.execute(f"DELETE FROM tile_changes WHERE layer = '{LAYER}'")
    op.drop_index('ix_opinion_items_published', table_name='opinion_items')
    op.drop_index('ix_opinion_items_bands', table_name='opinion_items', postgresql_using='gin')
    op.drop_geospatial_index('idx_opinion_items_geom', table_name='opinion_items', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('opinion_items')
    op.drop_table('opinion_skips')
