"""history and provenance: import jobs, per-record provenance, every change to every feature

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 14:50:00

Each layer table gains ``source_dataset``/``source_key`` (the record's identity in the file it
came from, for idempotent re-imports) and ``import_job`` (the import that last wrote it). Triggers
keep ``updated_at`` moving and write ``feature_history``: one row per inserted, updated or deleted
feature with the actor and source named by the writer through ``set_config('ioc.actor', ...)``
and ``set_config('ioc.source', ...)``, the old row and the changed values. Reading a layer "as of"
a moment combines the current rows with the old versions valid at that moment.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LAYER_TABLES = (
    "province", "communes", "planning_zones", "land_parcels", "construction_permits", "housing",
    "roads", "power_lines", "water_network", "schools", "health_facilities", "trees", "stations",
    "iot_stations",
)
WHO = ("nullif(current_setting('ioc.actor', true), ''), "
       "nullif(current_setting('ioc.source', true), '')")
# Only the constants in this module are formatted into these statements.
FUNCTIONS = {
    "ioc_history_insert": (
        "INSERT INTO feature_history (layer, feature_id, op, actor, source) "
        f"SELECT TG_TABLE_NAME, n.id, 'insert', {WHO} FROM new_rows n"
    ),
    "ioc_history_update": (
        "INSERT INTO feature_history (layer, feature_id, op, valid_from, actor, source, old, changes) "
        f"SELECT TG_TABLE_NAME, o.id, 'update', o.updated_at, {WHO}, to_jsonb(o), "
        "(SELECT jsonb_object_agg(a.key, jsonb_build_array(a.value, b.value)) "
        " FROM jsonb_each(to_jsonb(o)) a JOIN jsonb_each(to_jsonb(n)) b ON a.key = b.key "
        " WHERE a.value IS DISTINCT FROM b.value AND a.key <> 'updated_at') "
        "FROM old_rows o JOIN new_rows n ON n.id = o.id"
    ),
    "ioc_history_delete": (
        "INSERT INTO feature_history (layer, feature_id, op, valid_from, actor, source, old) "
        f"SELECT TG_TABLE_NAME, o.id, 'delete', o.updated_at, {WHO}, to_jsonb(o) FROM old_rows o"
    ),
}
TRIGGERS = (  # name, event, transition table
    ("ioc_history_insert", "INSERT", "REFERENCING NEW TABLE AS new_rows"),
    ("ioc_history_update", "UPDATE", "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    ("ioc_history_delete", "DELETE", "REFERENCING OLD TABLE AS old_rows"),
)


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "import_jobs",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("layer", sa.Text(), nullable=False),
        sa.Column("dataset", sa.Text(), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("file_sha256", sa.Text(), nullable=False),
        sa.Column("file_size", sa.BigInteger(), nullable=False),
        sa.Column("source_crs", sa.Text(), nullable=True),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("added", sa.Integer(), server_default="0", nullable=False),
        sa.Column("changed", sa.Integer(), server_default="0", nullable=False),
        sa.Column("removed", sa.Integer(), server_default="0", nullable=False),
        sa.Column("unchanged", sa.Integer(), server_default="0", nullable=False),
        sa.Column("report", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_jobs")),
    )
    op.create_index(op.f("ix_import_jobs_layer_dataset"), "import_jobs", ["layer", "dataset"])
    op.create_table(
        "feature_history",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("layer", sa.Text(), nullable=False),
        sa.Column("feature_id", sa.BigInteger(), nullable=False),
        sa.Column("op", sa.Text(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=True),
        sa.Column("actor", sa.Text(), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("old", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("changes", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feature_history")),
    )
    op.create_index(op.f("ix_feature_history_layer_feature_id"), "feature_history",
                    ["layer", "feature_id"])
    op.create_index(op.f("ix_feature_history_layer_changed_at"), "feature_history",
                    ["layer", "changed_at"])
    op.execute(
        "CREATE FUNCTION ioc_touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN NEW.updated_at := now(); "
        "END IF; RETURN NEW; END $$"
    )
    for name, body in FUNCTIONS.items():
        op.execute(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                   f"{body}; RETURN NULL; END $$")
    for table in LAYER_TABLES:
        op.add_column(table, sa.Column("source_dataset", sa.Text(), nullable=True))
        op.add_column(table, sa.Column("source_key", sa.Text(), nullable=True))
        op.add_column(table, sa.Column("import_job", sa.BigInteger(), nullable=True))
        op.create_foreign_key(op.f(f"fk_{table}_import_job"), table, "import_jobs",
                              ["import_job"], ["id"])
        op.create_unique_constraint(op.f(f"uq_{table}_source_dataset_source_key"), table,
                                    ["source_dataset", "source_key"])
        op.execute(f"CREATE TRIGGER ioc_touch BEFORE UPDATE ON {table} "
                   "FOR EACH ROW EXECUTE FUNCTION ioc_touch()")
        for name, event, transition in TRIGGERS:
            op.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} {transition} "
                       f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()")


def downgrade() -> None:
    """Revert this revision."""
    for table in LAYER_TABLES:
        for name in ("ioc_touch", *FUNCTIONS):
            op.execute(f"DROP TRIGGER {name} ON {table}")
        op.drop_constraint(op.f(f"uq_{table}_source_dataset_source_key"), table)
        op.drop_constraint(op.f(f"fk_{table}_import_job"), table)
        for column in ("import_job", "source_key", "source_dataset"):
            op.drop_column(table, column)
    for name in ("ioc_touch", *FUNCTIONS):
        op.execute(f"DROP FUNCTION {name}()")
    op.drop_table("feature_history")
    op.drop_table("import_jobs")
