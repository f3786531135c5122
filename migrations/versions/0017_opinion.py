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

from migrations.derived_layers import DerivedLayer

revision: str = '0017'
down_revision: str | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The public layer: placed items only, without author or text.
LAYER = DerivedLayer("opinion_points", "opinion_items", "ioc_op", expand=0.001,
                     only="geom IS NOT NULL", recount_on_update=True)
VIEW = (
    "SELECT i.id, i.geom::geometry(Point, 4326) AS geom, i.sector, "
    "i.tone, i.urgent, i.commune_code, i.published_at, i.fetched_at AS created_at, "
    "i.fetched_at AS updated_at, NULL::text AS source_dataset, NULL::text AS source_key, "
    "NULL::bigint AS import_job FROM opinion_items i WHERE i.geom IS NOT NULL")


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
    LAYER.create(VIEW)


def downgrade() -> None:
    """Revert this revision."""
    LAYER.drop()
    op.drop_index('ix_opinion_items_published', table_name='opinion_items')
    op.drop_index('ix_opinion_items_bands', table_name='opinion_items', postgresql_using='gin')
    op.drop_geospatial_index('idx_opinion_items_geom', table_name='opinion_items', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('opinion_items')
    op.drop_table('opinion_skips')
