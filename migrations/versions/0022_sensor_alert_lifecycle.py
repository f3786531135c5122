"""sensor alerts: acknowledgement (who, when, a note), the clearing value, the incident told

Revision ID: 0022
Revises: 0024
Create Date: 2026-12-07 19:20:00

An alert is acknowledged by an operator or its rule's department, with a note; it clears by
itself, and the clearing is written on its incident's timeline once (``clear_noted_at``).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHERE = "status = 'cleared' AND incident_id IS NOT NULL AND clear_noted_at IS NULL"


def upgrade() -> None:
    """Apply this revision."""
    op.add_column("sensor_alerts", sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("sensor_alerts", sa.Column("acknowledged_by", sa.Text(), nullable=True,
                                             comment="the account that acknowledged it"))
    op.add_column("sensor_alerts", sa.Column("acknowledged_unit", sa.Text(), nullable=True,
                                             comment="the acknowledger's department, or 'operator'"))
    op.add_column("sensor_alerts", sa.Column("acknowledged_note", sa.Text(), nullable=True))
    op.add_column("sensor_alerts", sa.Column("cleared_value", sa.Double(), nullable=True,
                                             comment="the value at which the condition ended"))
    op.add_column("sensor_alerts", sa.Column("clear_noted_at", sa.DateTime(timezone=True), nullable=True,
                                             comment="when the alert's incident was told that it cleared"))
    op.create_index("ix_sensor_alerts_clear_unnoted", "sensor_alerts", ["id"], unique=False,
                    postgresql_where=sa.text(WHERE))


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_sensor_alerts_clear_unnoted", table_name="sensor_alerts",
                  postgresql_where=sa.text(WHERE))
    for column in ("clear_noted_at", "cleared_value", "acknowledged_note", "acknowledged_unit",
                   "acknowledged_by", "acknowledged_at"):
        op.drop_column("sensor_alerts", column)
