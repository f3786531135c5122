"""The tables of citizen feedback (migration 0015): requests, their steps, the encrypted
identities of reporters and the requests to reveal one."""

from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Table,
    Text,
    UniqueConstraint,
    false,
    func,
)

from layers.tables import metadata

STATUSES = ("received", "classified", "forwarded", "in_progress", "resolved", "returned", "closed")

# One row per report. ``token`` is the tracking code the reporter keeps (never listed);
# ``client_token`` the sender's idempotency key: a retried POST finds its first request.
FEEDBACK_REQUESTS = Table(
    "feedback_requests", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("token", Text, nullable=False, unique=True),
    Column("client_token", Text, unique=True),
    Column("service_code", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("address", Text),
    Column("geom", Geometry("POINT", srid=4326, spatial_index=True), nullable=False),
    Column("commune_code", Text),
    Column("department", Text, nullable=False),
    Column("status", Text, nullable=False, server_default="received"),
    Column("assigned_to", Text),
    Column("response", Text),
    Column("due_on", Date, nullable=False),
    Column("channel", Text, nullable=False),
    Column("sensitive", Boolean, nullable=False, server_default=false()),
    Column("photo", LargeBinary),
    Column("rating", Integer),
    Column("requested_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("answered_at", DateTime(timezone=True)),
    CheckConstraint("status IN ('received', 'classified', 'forwarded', 'in_progress', 'resolved', "
                    "'returned', 'closed')", name="status_known"),
    CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),
)
Index("ix_feedback_requests_status", FEEDBACK_REQUESTS.c.status)

# Every step of a case: who, when, from which status to which, and a note. The references to the
# request are checked at commit, so a report's own rows are written before the request itself and
# the request's insert (which updates the layer's count row) comes last: concurrent reports wait
# on that row only for the end of their transaction.
FEEDBACK_EVENTS = Table(
    "feedback_events", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("request_id", BigInteger, ForeignKey("feedback_requests.id", ondelete="CASCADE",
                                                 deferrable=True, initially="DEFERRED"),
           nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("actor", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("note", Text),
)

# The reporter's name, phone, email and ID: AES-256-GCM ciphertext (nonce first), the key in
# var/feedback.key, never in the database.
FEEDBACK_IDENTITIES = Table(
    "feedback_identities", metadata,
    Column("request_id", BigInteger, ForeignKey("feedback_requests.id", ondelete="CASCADE",
                                                 deferrable=True, initially="DEFERRED"),
           primary_key=True),
    Column("sealed", LargeBinary, nullable=False),
)

# A request to read one reporter's identity: asked with a reason, approved by a second person.
FEEDBACK_REVEALS = Table(
    "feedback_reveals", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("request_id", BigInteger, ForeignKey("feedback_requests.id", ondelete="CASCADE"),
           nullable=False, index=True),
    Column("asked_by", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("asked_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("approved_by", Text),
    Column("approved_at", DateTime(timezone=True)),
    CheckConstraint("approved_by IS NULL OR approved_by <> asked_by", name="second_person"),
)

# What the deadline sweep raised (migration 0021): a warning before a case's deadline, to its
# department; an escalation after it, to the operator. One of each kind per case and deadline:
# the unique key makes a second sweep (another worker, a retry) a no-op. Staff mark one seen.
NOTICE_KINDS = ("warning", "escalation")
FEEDBACK_NOTICES = Table(
    "feedback_notices", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("request_id", BigInteger, ForeignKey("feedback_requests.id", ondelete="CASCADE"),
           nullable=False),
    Column("kind", Text, nullable=False),
    Column("due_on", Date, nullable=False),
    Column("on_day", Date, nullable=False),  # the sweep's day (Lai Châu time)
    Column("days_left", Integer, nullable=False),  # working days; negative: overdue
    Column("recipient", Text, nullable=False),  # 'operator' or a department code
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("seen_by", Text),
    Column("seen_at", DateTime(timezone=True)),
    CheckConstraint("kind IN ('warning', 'escalation')", name="notice_kind"),
    UniqueConstraint("request_id", "kind", "due_on", name="uq_feedback_notices_once"),
)
Index("ix_feedback_notices_unseen", FEEDBACK_NOTICES.c.recipient,
      postgresql_where=FEEDBACK_NOTICES.c.seen_at.is_(None))
