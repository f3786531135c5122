"""The deadline sweep: a warning before a case's deadline, an escalation to the operator after it.

``sweep(engine, now)`` looks at every case not yet answered. A case is **warned** (to its
department) once its working days left are at most ``warn_days``, or once ``warn_share`` of its
working days have passed, whichever comes first; it is **escalated** (to the operator) on the
first working day after its deadline (its working days left below zero: a deadline on a Friday
escalates on Monday, or later when Monday is a holiday). Each is a notice (``feedback_notices``),
a step of the case by the system actor and an entry of the audit chain, written together in one
transaction per case.

Exactly once: the case's row is locked while it is looked at again, and the notice's unique key
(case, kind, deadline) turns a second sweep (another worker at the same moment, a retry after a
crash) into a no-op. ``now`` is a parameter, so the sweep runs on any clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from feedback.calendar import HolidaysUnknownError, working_days_between
from feedback.cases import LOCAL, _step

ACTOR = "lich-han-phan-anh"  # the system actor of the sweep, in the steps and the audit chain
HORIZON_DAYS = 120  # calendar days ahead a deadline may be and still be warned of
ACTIONS = {"warning": "deadline_warning", "escalation": "escalated"}


@dataclass(frozen=True)
class Policy:
    """When a case is warned of: ``warn_days`` working days before, or once ``warn_share`` of
    its working days have passed (0 < share ≤ 1; 1 turns the share off)."""

    warn_days: int = 2
    warn_share: float = 0.8


@dataclass
class Outcome:
    """What one sweep did."""

    on: date
    warned: list[int] = field(default_factory=list)
    escalated: list[int] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The outcome as JSON-able values."""
        return {"on": self.on.isoformat(), "warned": self.warned, "escalated": self.escalated,
                "skipped": self.skipped}


def stage(received_on: date, due_on: date, on: date, policy: Policy) -> tuple[str | None, int]:
    """What a case received on ``received_on`` and due on ``due_on`` calls for on day ``on``:
    ``escalation``, ``warning`` or None, with its working days left."""
    left = working_days_between(on, due_on)
    if left < 0:
        return "escalation", left
    total = working_days_between(received_on, due_on)
    if left <= policy.warn_days or (policy.warn_share < 1 and total - left >= policy.warn_share * total):
        return "warning", left
    return None, left


def local_day(moment: datetime) -> date:
    """The day in Lai Châu at ``moment``."""
    return moment.astimezone(LOCAL).date()


def _note(kind: str, due_on: date, left: int) -> str:
    due = due_on.strftime("%d/%m/%Y")
    if kind == "escalation":
        return (f"Quá hạn {-left} ngày làm việc (hạn {due}): chuyển lên bộ phận điều hành. / "
                f"Overdue by {-left} working day(s) (due {due}): raised to the operator.")
    return (f"Còn {left} ngày làm việc đến hạn {due}. / {left} working day(s) left until the "
            f"deadline, {due}.")


def raise_notice(conn: Connection, request_id: int, kind: str, due_on: date, on: date, left: int,
                 actor: str = ACTOR) -> bool:
    """Record one warning or escalation of a case, unless the case was answered or its deadline
    moved meanwhile, or it was already recorded; whether this call recorded it."""
    row = conn.execute(text("SELECT status, due_on, department, answered_at FROM feedback_requests "
                            "WHERE id = :id FOR UPDATE"), {"id": request_id}).first()
    if row is None or row.answered_at is not None or row.due_on != due_on:
        return False
    recipient = "operator" if kind == "escalation" else row.department
    made = conn.execute(text(
        "INSERT INTO feedback_notices (request_id, kind, due_on, on_day, days_left, recipient) "
        "VALUES (:id, :kind, :due, :on, :left, :to) "
        "ON CONFLICT ON CONSTRAINT uq_feedback_notices_once DO NOTHING RETURNING id"),
        {"id": request_id, "kind": kind, "due": due_on, "on": on, "left": left,
         "to": recipient}).scalar()
    if made is None:
        return False
    _step(conn, request_id, actor, ACTIONS[kind], row.status, _note(kind, due_on, left))
    return True


def sweep(engine: Engine, now: datetime, policy: Policy | None = None, actor: str = ACTOR
          ) -> Outcome:
    """Warn and escalate every case that calls for it on the day of ``now`` (Lai Châu time);
    each case in a transaction of its own. A case whose count reaches a year without its
    holidays in the table is skipped and named, never counted without them."""
    policy = policy or Policy()
    on = local_day(now)
    outcome = Outcome(on)
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT r.id, r.requested_at, r.due_on, array(SELECT n.kind FROM feedback_notices n "
            "WHERE n.request_id = r.id AND n.due_on = r.due_on) AS done "
            "FROM feedback_requests r WHERE r.answered_at IS NULL AND r.due_on <= :horizon "
            "ORDER BY r.due_on, r.id"), {"horizon": on + timedelta(days=HORIZON_DAYS)}).all()
    for row in rows:
        if "escalation" in row.done:
            continue
        try:
            kind, left = stage(local_day(row.requested_at), row.due_on, on, policy)
        except HolidaysUnknownError as err:
            outcome.skipped.append({"id": row.id, "error": err.message, "error_en": err.message_en})
            continue
        if kind is None or kind in row.done:
            continue
        with engine.begin() as conn:
            if raise_notice(conn, row.id, kind, row.due_on, on, left, actor):
                (outcome.escalated if kind == "escalation" else outcome.warned).append(row.id)
    return outcome


_NOTICES = (
    "SELECT n.id, n.request_id, n.kind, n.due_on, n.on_day, n.days_left, n.recipient, n.at, "
    "n.seen_by, n.seen_at, r.service_code, r.status, r.department, r.commune_code "
    "FROM feedback_notices n JOIN feedback_requests r ON r.id = n.request_id")


def notices(conn: Connection, *, department: str | None = None, request_id: int | None = None,
            unseen: bool = False, limit: int = 200) -> list[dict[str, Any]]:
    """Warnings and escalations, newest first: a department's (its cases') or all of them."""
    where, params = [], {"limit": limit}
    if department:
        where.append("r.department = :department")
        params["department"] = department
    if request_id is not None:
        where.append("n.request_id = :rid")
        params["rid"] = request_id
    if unseen:
        where.append("n.seen_at IS NULL")
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    rows = conn.execute(text(f"{_NOTICES}{clause} ORDER BY n.id DESC LIMIT :limit"),  # noqa: S608
                        params).mappings()
    return [dict(r) for r in rows]


def mark_seen(conn: Connection, notice_id: int, who: str) -> dict[str, Any] | None:
    """Mark a notice seen by ``who`` (the first one to see it is kept); the notice."""
    conn.execute(text("UPDATE feedback_notices SET seen_by = :who, seen_at = now() "
                      "WHERE id = :id AND seen_at IS NULL"), {"who": who, "id": notice_id})
    row = conn.execute(text(f"{_NOTICES} WHERE n.id = :id"), {"id": notice_id}).mappings().first()  # noqa: S608
    return dict(row) if row else None


def overdue(conn: Connection, on: date) -> list[dict[str, Any]]:
    """The cases past their deadline on ``on`` and not answered, for the situation view: the
    public layer's coarsened point, category, status, commune and department, working days
    overdue and whether the operator was told; nothing about the reporter or the text."""
    rows = conn.execute(text(
        "SELECT r.id, r.service_code, r.status, r.commune_code, c.name AS commune_name, "
        "r.department, r.due_on, ST_X(p.geom) AS lon, ST_Y(p.geom) AS lat, "
        "EXISTS (SELECT 1 FROM feedback_notices n WHERE n.request_id = r.id "
        "AND n.kind = 'escalation' AND n.due_on = r.due_on) AS escalated "
        "FROM feedback_requests r JOIN feedback_points p ON p.id = r.id "
        "LEFT JOIN communes c ON c.code = r.commune_code "
        "WHERE r.answered_at IS NULL AND r.due_on < :on ORDER BY r.due_on, r.id LIMIT 500"),
        {"on": on}).mappings()
    out = []
    for r in rows:
        try:
            late = -working_days_between(on, r["due_on"])
        except HolidaysUnknownError:
            late = None
        out.append({**r, "working_days_overdue": late})
    return out
