"""feedback: citizen reports, their steps, sealed identities and reveals

Revision ID: 0015
Revises: 0010
Create Date: 2026-12-07 16:00:00

Citizens' reports (the web form and Open311), every step of their handling, the reporters'
identities sealed with AES-256-GCM (the key stays outside the database, in var/feedback.key) and
the requests to reveal one, approved by a second person.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

from migrations.derived_layers import DerivedLayer

revision: str = "0015"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The public layer ``feedback_points`` (layers/catalog/feedback_points.py): a view, positions
# rounded to 0.001° (0.01° for sensitive categories), the answer once returned, no reporter; tile
# boxes widened to cover the rounding.
LAYER = DerivedLayer("feedback_points", "feedback_requests", "ioc_fp", expand=0.006)
VIEW = (
    "SELECT r.id, "
    "ST_SnapToGrid(r.geom, CASE WHEN r.sensitive THEN 0.01 ELSE 0.001 END)::geometry(Point, 4326) "
    "AS geom, r.service_code, r.status, r.commune_code, r.department, "
    "CASE WHEN r.status IN ('returned', 'closed') THEN r.response END AS result, "
    "r.requested_at, r.due_on, r.requested_at AS created_at, r.updated_at, "
    "NULL::text AS source_dataset, NULL::text AS source_key, NULL::bigint AS import_job "
    "FROM feedback_requests r")


def upgrade() -> None:
    """Apply this revision."""
    op.create_geospatial_table('feedback_requests',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('token', sa.Text(), nullable=False),
    sa.Column('client_token', sa.Text(), nullable=True),
    sa.Column('service_code', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('address', sa.Text(), nullable=True),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('commune_code', sa.Text(), nullable=True),
    sa.Column('department', sa.Text(), nullable=False),
    sa.Column('status', sa.Text(), server_default='received', nullable=False),
    sa.Column('assigned_to', sa.Text(), nullable=True),
    sa.Column('response', sa.Text(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('channel', sa.Text(), nullable=False),
    sa.Column('sensitive', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('photo', sa.LargeBinary(), nullable=True),
    sa.Column('rating', sa.Integer(), nullable=True),
    sa.Column('requested_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('received', 'classified', 'forwarded', 'in_progress', 'resolved', 'returned', 'closed')", name='status_known'),
    sa.CheckConstraint('rating BETWEEN 1 AND 5', name='rating_range'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_requests')),
    sa.UniqueConstraint('client_token', name=op.f('uq_feedback_requests_client_token')),
    sa.UniqueConstraint('token', name=op.f('uq_feedback_requests_token'))
    )
    op.create_geospatial_index('idx_feedback_requests_geom', 'feedback_requests', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index('ix_feedback_requests_status', 'feedback_requests', ['status'], unique=False)
    op.create_table('feedback_events',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('request_id', sa.BigInteger(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('actor', sa.Text(), nullable=False),
    sa.Column('action', sa.Text(), nullable=False),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['request_id'], ['feedback_requests.id'], name=op.f('fk_feedback_events_request_id'), ondelete='CASCADE', deferrable=True, initially='DEFERRED'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_events'))
    )
    op.create_index(op.f('ix_feedback_events_request_id'), 'feedback_events', ['request_id'], unique=False)
    op.create_table('feedback_identities',
    sa.Column('request_id', sa.BigInteger(), nullable=False),
    sa.Column('sealed', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['feedback_requests.id'], name=op.f('fk_feedback_identities_request_id'), ondelete='CASCADE', deferrable=True, initially='DEFERRED'),
    sa.PrimaryKeyConstraint('request_id', name=op.f('pk_feedback_identities'))
    )
    op.create_table('feedback_reveals',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('request_id', sa.BigInteger(), nullable=False),
    sa.Column('asked_by', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('asked_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('approved_by', sa.Text(), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('approved_by IS NULL OR approved_by <> asked_by', name='second_person'),
    sa.ForeignKeyConstraint(['request_id'], ['feedback_requests.id'], name=op.f('fk_feedback_reveals_request_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_reveals'))
    )
    op.create_index(op.f('ix_feedback_reveals_request_id'), 'feedback_reveals', ['request_id'], unique=False)
    LAYER.create(VIEW)


def downgrade() -> None:
    """Revert this revision."""
    LAYER.drop()
    op.drop_index(op.f('ix_feedback_reveals_request_id'), table_name='feedback_reveals')
    op.drop_table('feedback_reveals')
    op.drop_table('feedback_identities')
    op.drop_index(op.f('ix_feedback_events_request_id'), table_name='feedback_events')
    op.drop_table('feedback_events')
    op.drop_index('ix_feedback_requests_status', table_name='feedback_requests')
    op.drop_geospatial_index('idx_feedback_requests_geom', table_name='feedback_requests', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('feedback_requests')
