"""sensors: datastreams of the IoT stations, observations, quarantine, alerts

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-07 15:58:36

Observations are unique by (datastream, phenomenon time), which makes ingestion idempotent; a
BRIN index serves time ranges. One alert per rule and datastream is open at a time (partial
unique index), so two workers cannot raise it twice.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table("observation_quarantine",
    sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column("topic", sa.Text(), nullable=False),
    sa.Column("payload", sa.Text(), nullable=False),
    sa.Column("reason", sa.Text(), nullable=False),
    sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_observation_quarantine"))
    )
    op.create_table("datastreams",
    sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column("station_id", sa.BigInteger(), nullable=False),
    sa.Column("property", sa.Text(), nullable=False, comment="rain, water_level, pm25 (sensors.catalog)"),
    sa.Column("unit", sa.Text(), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    sa.ForeignKeyConstraint(["station_id"], ["iot_stations.id"], name=op.f("fk_datastreams_station_id"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_datastreams")),
    sa.UniqueConstraint("station_id", "property", name=op.f("uq_datastreams_station_id_property"))
    )
    op.create_table("observations",
    sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column("datastream_id", sa.BigInteger(), nullable=False),
    sa.Column("phenomenon_time", sa.DateTime(timezone=True), nullable=False),
    sa.Column("result", sa.Double(), nullable=False),
    sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.text("clock_timestamp()"), nullable=False, comment="when the row was written"),
    sa.ForeignKeyConstraint(["datastream_id"], ["datastreams.id"], name=op.f("fk_observations_datastream_id"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_observations")),
    sa.UniqueConstraint("datastream_id", "phenomenon_time", name=op.f("uq_observations_datastream_id_phenomenon_time"))
    )
    op.create_index("ix_observations_phenomenon_time", "observations", ["phenomenon_time"], unique=False, postgresql_using="brin")
    op.create_table("sensor_alerts",
    sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column("rule_id", sa.Text(), nullable=False),
    sa.Column("datastream_id", sa.BigInteger(), nullable=False),
    sa.Column("status", sa.Text(), nullable=False, comment="raised, acknowledged or cleared"),
    sa.Column("value", sa.Double(), nullable=False, comment="the value that crossed the rule"),
    sa.Column("phenomenon_time", sa.DateTime(timezone=True), nullable=False),
    sa.Column("raised_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("incident_id", sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(["datastream_id"], ["datastreams.id"], name=op.f("fk_sensor_alerts_datastream_id"), ondelete="CASCADE"),
    sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], name=op.f("fk_sensor_alerts_incident_id"), ondelete="SET NULL"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_sensor_alerts"))
    )
    op.create_index("uq_sensor_alerts_open", "sensor_alerts", ["rule_id", "datastream_id"], unique=True, postgresql_where=sa.text("status <> 'cleared'"))


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("uq_sensor_alerts_open", table_name="sensor_alerts", postgresql_where=sa.text("status <> 'cleared'"))
    op.drop_table("sensor_alerts")
    op.drop_index("ix_observations_phenomenon_time", table_name="observations", postgresql_using="brin")
    op.drop_table("observations")
    op.drop_table("datastreams")
    op.drop_table("observation_quarantine")
