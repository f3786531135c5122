"""scenarios: indicator targets, reported values, thematic documents, incidents; geography indexes

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 14:50:00

Metre-radius selections use ``ST_DWithin(geom::geography, …)``, which can use an index only on
that same expression: hence the GiST indexes on ``(geom::geography)`` of the point layers.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GEOGRAPHY_INDEXED = ("housing", "schools", "health_facilities")
PERIOD = "2025, 2025-Q3 or 2025-07"
UNIT = "'province' or a commune code"


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "indicator_targets",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("indicator", sa.Text(), nullable=False),
        sa.Column("period", sa.Text(), nullable=False, comment=PERIOD),
        sa.Column("unit_code", sa.Text(), nullable=False, comment=UNIT),
        sa.Column("value", sa.Double(), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("entered_by", sa.Text(), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicator_targets")),
        sa.UniqueConstraint("indicator", "period", "unit_code",
                            name=op.f("uq_indicator_targets_indicator_period_unit_code")),
    )
    op.create_table(
        "reported_values",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("indicator", sa.Text(), nullable=False),
        sa.Column("period", sa.Text(), nullable=False, comment=PERIOD),
        sa.Column("unit_code", sa.Text(), nullable=False, comment=UNIT),
        sa.Column("value", sa.Double(), nullable=False),
        sa.Column("entered_by", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False, comment="api, csv, xlsx or reference"),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("entered_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reported_values")),
        sa.UniqueConstraint("indicator", "period", "unit_code",
                            name=op.f("uq_reported_values_indicator_period_unit_code")),
    )
    op.create_table(
        "thematic_scenarios",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("document", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_thematic_scenarios")),
    )
    op.create_geospatial_table(
        "incidents",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("geom", Geometry(geometry_type="GEOMETRY", srid=4326, dimension=2, spatial_index=False,
                                   from_text="ST_GeomFromEWKT", name="geometry", nullable=False), nullable=False),
        sa.Column("radius_m", sa.Double(), server_default="0", nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents")),
    )
    op.create_geospatial_index("idx_incidents_geom", "incidents", ["geom"], unique=False,
                               postgresql_using="gist", postgresql_ops={})
    op.create_table(
        "incident_events",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("incident_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], ondelete="CASCADE",
                                name=op.f("fk_incident_events_incident_id_incidents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_events")),
    )
    op.create_index(op.f("ix_incident_events_incident_id"), "incident_events", ["incident_id"], unique=False)
    for table in GEOGRAPHY_INDEXED:
        op.execute(f"CREATE INDEX IF NOT EXISTS ix_{table}_geog ON {table} USING gist ((geom::geography))")


def downgrade() -> None:
    """Revert this revision."""
    for table in GEOGRAPHY_INDEXED:
        op.execute(f"DROP INDEX IF EXISTS ix_{table}_geog")
    op.drop_index(op.f("ix_incident_events_incident_id"), table_name="incident_events")
    op.drop_table("incident_events")
    op.drop_geospatial_index("idx_incidents_geom", table_name="incidents", postgresql_using="gist",
                             column_name="geom")
    op.drop_geospatial_table("incidents")
    op.drop_table("thematic_scenarios")
    op.drop_table("reported_values")
    op.drop_table("indicator_targets")
