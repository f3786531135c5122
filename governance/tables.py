"""Tables of accounts, sessions, the audit log, pending edits and field photos (migrations 0006,
0008; pending imports 0009) and the request counts of the rate limits (0010)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Double,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Table,
    Text,
    false,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, OID, UUID

from layers.tables import IMPORT_JOBS, metadata

ROLES = ("operator", "leader", "department_editor", "commune_editor", "field_staff", "viewer",
         "api_client")

ACCOUNTS = Table(
    "accounts", metadata,
    Column("id", BigInteger, Identity(always=False), primary_key=True),
    Column("username", Text, nullable=False, unique=True),
    Column("display_name", Text),
    Column("role", Text, nullable=False),
    Column("department", Text),
    Column("commune_code", Text),
    Column("scopes", ARRAY(Text), nullable=False, server_default=text("'{}'::text[]")),
    # argon2id hash of the password (people) or SHA-256 of the key (API clients).
    Column("password_hash", Text),
    Column("key_prefix", Text, unique=True),
    # active | locked (by an operator) | revoked (for good) | expired (unused too long)
    Column("status", Text, nullable=False, server_default="active"),
    Column("failed_logins", Integer, nullable=False, server_default="0"),
    Column("locked_until", DateTime(timezone=True)),
    Column("last_login_at", DateTime(timezone=True)),
    Column("password_changed_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("created_by", Text),
    CheckConstraint(f"role IN {ROLES!r}", name="ck_accounts_role"),
    CheckConstraint("status IN ('active', 'locked', 'revoked', 'expired')",
                    name="ck_accounts_status"),
)

SESSIONS = Table(
    "sessions", metadata,
    Column("id", Text, primary_key=True),
    Column("account_id", BigInteger, ForeignKey("accounts.id", name="fk_sessions_account"),
           nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
    Column("client_ip", Text),
)
Index(None, SESSIONS.c.account_id)

# Append-only and hash-chained: seq has no gaps, each entry stores its predecessor's hash.
AUDIT_LOG = Table(
    "audit_log", metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", Text),
    Column("action", Text, nullable=False),
    Column("target", Text),
    Column("outcome", Text, nullable=False),
    Column("client_ip", Text),
    Column("reason", Text),
    Column("details", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("prev_hash", Text, nullable=False),
    Column("hash", Text, nullable=False),
)
Index(None, AUDIT_LOG.c.actor)
Index(None, AUDIT_LOG.c.action)

# Entries appended without taking the chain's lock (citizen intake, migration 0020): committed with
# the work they record, then moved into ``audit_log`` in id order by ``audit.chain`` — one
# sequencer at a time, each batch under the chain's lock.
AUDIT_PENDING = Table(
    "audit_pending", metadata,
    Column("id", BigInteger, Identity(always=False), primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", Text),
    Column("action", Text, nullable=False),
    Column("target", Text),
    Column("outcome", Text, nullable=False),
    Column("client_ip", Text),
    Column("reason", Text),
    Column("details", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
)

PENDING_EDITS = Table(
    "pending_edits", metadata,
    Column("id", BigInteger, Identity(always=False), primary_key=True),
    Column("layer", Text, nullable=False),
    Column("feature_id", BigInteger),
    Column("op", Text, nullable=False),
    Column("geometry", JSONB),
    Column("properties", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("base_etag", Text),
    # The feature when the edit arrived (properties and geometry), for the approval's field check.
    Column("base", JSONB),
    # The submitter sent If-Match: approval needs the feature still at exactly ``base_etag``.
    Column("if_match", Boolean, nullable=False, server_default=false()),
    Column("commune_code", Text),
    Column("submitted_by", Text, nullable=False),
    Column("submitted_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("status", Text, nullable=False, server_default="pending"),
    Column("reviewer", Text),
    Column("reviewed_at", DateTime(timezone=True)),
    Column("reason", Text),
    Column("applied_feature_id", BigInteger),
    Column("client_uuid", UUID(as_uuid=False), unique=True),
    Column("warnings", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    # A pending import (op 'import', migration 0009): its job and the uploaded file (large object).
    Column("import_job", BigInteger, ForeignKey(IMPORT_JOBS.c.id)),
    Column("staged_file", OID),
    CheckConstraint("op IN ('create', 'replace', 'update', 'delete', 'import')",
                    name="ck_pending_edits_op"),
    CheckConstraint("status IN ('pending', 'approved', 'rejected')",
                    name="ck_pending_edits_status"),
)
Index(None, PENDING_EDITS.c.layer, PENDING_EDITS.c.status)

FIELD_PHOTOS = Table(
    "field_photos", metadata,
    Column("sha256", Text, primary_key=True),
    Column("content_type", Text, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("exif_lon", Double),
    Column("exif_lat", Double),
    Column("exif_time", DateTime(timezone=True)),
    Column("uploaded_by", Text, nullable=False),
    Column("uploaded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("pending_edit_id", BigInteger,
           ForeignKey("pending_edits.id", name="fk_field_photos_pending_edit")),
)

# One row per bucket (e.g. 'compute:203.0.113.7') and minute (the start of the counting window):
# the requests it made in that window. Rows a few windows old are deleted as new windows start.
RATE_LIMITS = Table(
    "rate_limits", metadata,
    Column("bucket", Text, primary_key=True),
    Column("minute", DateTime(timezone=True), primary_key=True),
    Column("hits", Integer, nullable=False),
)
