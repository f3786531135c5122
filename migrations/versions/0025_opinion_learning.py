"""opinion: operators' corrections, trained model versions, declared villages, incident links

Revision ID: 0025
Revises: 0018
Create Date: 2026-12-07 19:30:00

Corrections of an item's labels (who, when, from what) kept as training examples; each trained
classifier with its figures on the held-out part, at most one active; the villages a deployment
declares for the gazetteer; on each item the incident opened from it and the model version that
classified it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision: str = "0025"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.add_column("opinion_items", sa.Column("incident_id", sa.BigInteger(), nullable=True))
    op.add_column("opinion_items", sa.Column("model_version", sa.BigInteger(), nullable=True))
    op.create_foreign_key(op.f("fk_opinion_items_incident_id"), "opinion_items", "incidents",
                          ["incident_id"], ["id"], ondelete="SET NULL")
    op.create_table(
        "opinion_corrections",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("item_id", sa.BigInteger(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("sector", sa.Text(), nullable=False),
        sa.Column("tone", sa.Text(), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("commune_code", sa.Text(), nullable=True),
        sa.Column("previous", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("corrected_by", sa.Text(), nullable=False),
        sa.Column("corrected_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["opinion_items.id"],
                                name=op.f("fk_opinion_corrections_item_id"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opinion_corrections")),
    )
    op.create_index(op.f("ix_opinion_corrections_item_id"), "opinion_corrections", ["item_id"],
                    unique=False)
    op.create_table(
        "opinion_models",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("trained_on", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("metrics", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("baseline", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("decision", sa.Text(), nullable=False),
        sa.Column("model", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opinion_models")),
    )
    op.create_index("uq_opinion_models_active", "opinion_models", ["active"], unique=True,
                    postgresql_where=sa.text("active"))
    op.create_table(
        "opinion_villages",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("commune_code", sa.Text(), nullable=False),
        sa.Column("variants", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"),
                  nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("geom", Geometry(geometry_type="POINT", srid=4326, dimension=2,
                                   spatial_index=False, from_text="ST_GeomFromEWKT",
                                   name="geometry"), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.Column("imported_by", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opinion_villages")),
    )
    op.create_index("uq_opinion_villages_name", "opinion_villages", ["commune_code", "name"],
                    unique=True)


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("uq_opinion_villages_name", table_name="opinion_villages")
    op.drop_table("opinion_villages")
    op.drop_index("uq_opinion_models_active", table_name="opinion_models",
                  postgresql_where=sa.text("active"))
    op.drop_table("opinion_models")
    op.drop_index(op.f("ix_opinion_corrections_item_id"), table_name="opinion_corrections")
    op.drop_table("opinion_corrections")
    op.drop_constraint(op.f("fk_opinion_items_incident_id"), "opinion_items",
                       type_="foreignkey")
    op.drop_column("opinion_items", "model_version")
    op.drop_column("opinion_items", "incident_id")
