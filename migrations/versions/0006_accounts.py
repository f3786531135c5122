"""accounts, sessions, hash-chained audit log, pending edits and field photos

Revision ID: 0006
Revises: 0004
Create Date: 2026-11-30 14:45:00

The audit log is append-only: a trigger refuses UPDATE, DELETE and TRUNCATE, so rewriting
history takes a deliberate ``ALTER TABLE ... DISABLE TRIGGER`` by the table's owner — and even
then the hash chain (``ioc audit --verify``) shows what was altered or removed.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES = ("operator", "leader", "department_editor", "commune_editor", "field_staff", "viewer",
         "api_client")


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "accounts",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("username", sa.Text(), nullable=False),
        sa.Column("display_name", sa.Text()),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("department", sa.Text()),
        sa.Column("commune_code", sa.Text()),
        sa.Column("scopes", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False),
        sa.Column("password_hash", sa.Text()),
        sa.Column("key_prefix", sa.Text()),
        sa.Column("status", sa.Text(), server_default="active", nullable=False),
        sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True)),
        sa.Column("last_login_at", sa.DateTime(timezone=True)),
        sa.Column("password_changed_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("created_by", sa.Text()),
        sa.CheckConstraint(f"role IN {ROLES!r}", name="ck_accounts_role"),
        sa.CheckConstraint("status IN ('active', 'locked', 'revoked', 'expired')", name="ck_accounts_status"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("username", name=op.f("uq_accounts_username")),
        sa.UniqueConstraint("key_prefix", name=op.f("uq_accounts_key_prefix")),
    )
    op.create_table(
        "sessions",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.Column("client_ip", sa.Text()),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name="fk_sessions_account"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
    )
    op.create_index(op.f("ix_sessions_account_id"), "sessions", ["account_id"])
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.Text()),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("target", sa.Text()),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("client_ip", sa.Text()),
        sa.Column("reason", sa.Text()),
        sa.Column("details", postgresql.JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False),
        sa.Column("prev_hash", sa.Text(), nullable=False),
        sa.Column("hash", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_actor"), "audit_log", ["actor"])
    op.create_index(op.f("ix_audit_log_action"), "audit_log", ["action"])
    # Entries are never changed or removed in the ordinary course of things.
    op.execute(
        "CREATE FUNCTION ioc_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege'; "
        "END $$"
    )
    op.execute("CREATE TRIGGER ioc_audit_append_only BEFORE UPDATE OR DELETE ON audit_log "
               "FOR EACH ROW EXECUTE FUNCTION ioc_audit_append_only()")
    op.execute("CREATE TRIGGER ioc_audit_no_truncate BEFORE TRUNCATE ON audit_log "
               "FOR EACH STATEMENT EXECUTE FUNCTION ioc_audit_append_only()")
    op.create_table(
        "pending_edits",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("layer", sa.Text(), nullable=False),
        sa.Column("feature_id", sa.BigInteger()),
        sa.Column("op", sa.Text(), nullable=False),
        sa.Column("geometry", postgresql.JSONB()),
        sa.Column("properties", postgresql.JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False),
        sa.Column("base_etag", sa.Text()),
        sa.Column("commune_code", sa.Text()),
        sa.Column("submitted_by", sa.Text(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("status", sa.Text(), server_default="pending", nullable=False),
        sa.Column("reviewer", sa.Text()),
        sa.Column("reviewed_at", sa.DateTime(timezone=True)),
        sa.Column("reason", sa.Text()),
        sa.Column("applied_feature_id", sa.BigInteger()),
        sa.Column("client_uuid", postgresql.UUID(as_uuid=False)),
        sa.Column("warnings", postgresql.JSONB(), server_default=sa.text("'[]'::jsonb"), nullable=False),
        sa.CheckConstraint("op IN ('create', 'replace', 'update', 'delete')", name="ck_pending_edits_op"),
        sa.CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="ck_pending_edits_status"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_edits")),
        sa.UniqueConstraint("client_uuid", name=op.f("uq_pending_edits_client_uuid")),
    )
    op.create_index(op.f("ix_pending_edits_layer_status"), "pending_edits", ["layer", "status"])
    op.create_table(
        "field_photos",
        sa.Column("sha256", sa.Text(), nullable=False),
        sa.Column("content_type", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("exif_lon", sa.Double()),
        sa.Column("exif_lat", sa.Double()),
        sa.Column("exif_time", sa.DateTime(timezone=True)),
        sa.Column("uploaded_by", sa.Text(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("pending_edit_id", sa.BigInteger()),
        sa.ForeignKeyConstraint(["pending_edit_id"], ["pending_edits.id"], name="fk_field_photos_pending_edit"),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_field_photos")),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("field_photos")
    op.drop_index(op.f("ix_pending_edits_layer_status"), table_name="pending_edits")
    op.drop_table("pending_edits")
    op.drop_table("audit_log")
    op.execute("DROP FUNCTION ioc_audit_append_only()")
    op.drop_index(op.f("ix_sessions_account_id"), table_name="sessions")
    op.drop_table("sessions")
    op.drop_table("accounts")
