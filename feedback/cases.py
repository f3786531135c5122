"""Feedback cases: intake, the status flow with deadlines, the reporter's rating.

received → classified → forwarded → in_progress → resolved → returned → closed; a returned case
rated 1–2 by its reporter goes back to in_progress. Each step is a row of ``feedback_events`` and
an entry of the audit chain. The reporter's identity is sealed apart (``identity``) and never
part of what these functions return.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.engine import Connection

from feedback import identity
from feedback.calendar import add_working_days, working_days_between
from feedback.services import Service, require_service
from gis_core.errors import ConflictError, InvalidParameterError, NotFoundError
from gis_core.text import printable
from governance import audit
from layers.departments import DEPARTMENTS

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
MAX_DESCRIPTION = 4000
WARN_DAYS = 2  # working days before the deadline when a case is flagged as due soon
FLOW = {
    "received": ("classified", "forwarded"),
    "classified": ("forwarded",),
    "forwarded": ("in_progress",),
    "in_progress": ("resolved",),
    "resolved": ("returned", "in_progress"),
    "returned": ("closed", "in_progress"),
    "closed": ("in_progress",),
}
OPEN311_STATUS = {"closed": "closed", "returned": "closed"}


def today() -> date:
    """The date in Lai Châu now."""
    return datetime.now(LOCAL).date()


@dataclass(frozen=True)
class Submission:
    """One report as sent, before it is a case."""

    service_code: str
    description: str
    lat: float | None = None
    lon: float | None = None
    address: str | None = None
    identity: dict[str, str] | None = None
    client_token: str | None = None
    photo: bytes | None = None
    channel: str = "web"


def _clean(value: str | None, name: str, limit: int, required: bool = False) -> str | None:
    value = printable(value) if value else None
    if required and not value:
        raise InvalidParameterError(f"Thiếu '{name}': hãy mô tả nội dung phản ánh.",
                                    message_en=f"'{name}' is missing: describe the issue.",
                                    parameter=name)
    if value and len(value) > limit:
        raise InvalidParameterError(f"'{name}' dài quá {limit} ký tự.",
                                    message_en=f"'{name}' is longer than {limit} characters.",
                                    parameter=name)
    return value


def locate(conn: Connection, lat: float | None, lon: float | None, address: str | None
           ) -> tuple[float, float, str | None]:
    """The point and commune of a report: its lat/long (inside the province), or the commune its
    address names (the commune's inner point)."""
    if lat is not None and lon is not None:
        commune = conn.execute(text(
            "SELECT c.code FROM communes c WHERE ST_Intersects(c.geom, "
            "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)) ORDER BY c.code LIMIT 1"),
            {"lat": lat, "lon": lon}).scalar()
        if commune is None:
            raise InvalidParameterError(
                f"Vị trí ({lat}, {lon}) nằm ngoài tỉnh Lai Châu: hãy chọn lại trên bản đồ.",
                message_en=f"The position ({lat}, {lon}) is outside Lai Châu province: pick it "
                "again on the map.", parameter="lat")
        return lat, lon, commune
    if address:
        row = conn.execute(text(
            "SELECT c.code, ST_Y(p), ST_X(p) FROM communes c, ST_PointOnSurface(c.geom) p "
            "WHERE position(lower(c.name) IN lower(:address)) > 0 "
            "ORDER BY length(c.name) DESC, c.code LIMIT 1"), {"address": address}).first()
        if row is not None:
            return row[1], row[2], row[0]
    raise InvalidParameterError(
        "Cần vị trí: gửi lat và long, hoặc address_string có tên xã/phường trong tỉnh.",
        message_en="A position is needed: send lat and long, or an address_string naming a "
        "commune or ward of the province.", parameter="lat")


REDACTED = "[đã ẩn]"


def redact(description: str, person: dict[str, str]) -> str:
    """The description without the reporter's own name, phone, email or ID typed into it (the
    description is public; the identity is not)."""
    for value in sorted(person.values(), key=len, reverse=True):
        if len(value) >= 3:
            description = re.sub(re.escape(value), REDACTED, description, flags=re.IGNORECASE)
    return description


def submit(conn: Connection, secret: bytes, report: Submission, *, actor: str = "anonymous",
           received: datetime | None = None) -> tuple[dict[str, Any], bool]:
    """Record a report; returns its public view with its tracking ``token``, and whether it is new
    (False: a retry with the same ``client_token``, answered with the first one)."""
    service = require_service(report.service_code)
    description = _clean(report.description, "description", MAX_DESCRIPTION, required=True)
    address = _clean(report.address, "address_string", 300)
    client_token = _clean(report.client_token, "client_token", 100)
    if client_token:
        existing = _by(conn, "client_token", client_token)
        if existing is not None:
            return existing, False
    lat, lon, commune = locate(conn, report.lat, report.lon, address)
    person = {k: printable(v) for k, v in (report.identity or {}).items()
              if k in identity.FIELDS and v and printable(v)}
    description = redact(description, person)  # type: ignore[arg-type]
    received = received or datetime.now(UTC)
    due = add_working_days(received.astimezone(LOCAL).date(), service.working_days)
    # No row or lock is shared with a concurrent report: the audit entry is appended unchained and
    # the layer's count change as a pending row (migration 0020); the sequencer step orders both
    # after commit (``governance.sequencer``).
    request_id = conn.execute(text(
        "SELECT nextval(pg_get_serial_sequence('feedback_requests', 'id'))")).scalar_one()
    if person:
        conn.execute(text("INSERT INTO feedback_identities (request_id, sealed) VALUES (:id, :s)"),
                     {"id": request_id, "s": identity.seal(secret, request_id, person)})
    _event(conn, request_id, actor, "received", "received", None)
    row = conn.execute(text(
        "INSERT INTO feedback_requests (id, token, client_token, service_code, description, "
        "address, geom, commune_code, department, due_on, channel, sensitive, photo, "
        "requested_at, updated_at) "
        "VALUES (:id, :token, :client, :service, :description, :address, "
        "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), :commune, :department, :due, :channel, "
        ":sensitive, :photo, :at, :at) ON CONFLICT (client_token) DO NOTHING RETURNING id"),
        {"id": request_id, "token": secrets.token_urlsafe(18), "client": client_token,
         "service": service.code,
         "description": description, "address": address, "lat": lat, "lon": lon,
         "commune": commune, "department": service.department, "due": due,
         "channel": report.channel, "sensitive": service.sensitive, "photo": report.photo,
         "at": received}).first()
    if row is None:  # a concurrent retry inserted it first: this one's rows go
        conn.execute(text("DELETE FROM feedback_identities WHERE request_id = :id; "
                          "DELETE FROM feedback_events WHERE request_id = :id"), {"id": request_id})
        existing = _by(conn, "client_token", client_token)
        assert existing is not None
        return existing, False
    created = _by(conn, "id", request_id)
    assert created is not None
    audit.record_pending(conn, "feedback.received", actor=actor,
                         target=f"feedback_requests/{request_id}",
                         details={"status": "received", "note": None})
    return created, True


_PUBLIC = (
    "SELECT r.id, r.token, r.service_code, r.description, r.address, ST_Y(r.geom) AS lat, "
    "ST_X(r.geom) AS lon, r.commune_code, r.department, r.status, r.assigned_to, r.response, "
    "r.due_on, r.requested_at, r.updated_at, r.answered_at, r.channel, r.rating, "
    "r.photo IS NOT NULL AS has_photo FROM feedback_requests r")


def _by(conn: Connection, column: str, value: object) -> dict[str, Any] | None:
    row = conn.execute(text(f"{_PUBLIC} WHERE r.{column} = :v"), {"v": value}).mappings().first()  # noqa: S608
    return dict(row) if row else None


def get(conn: Connection, request_id: int) -> dict[str, Any]:
    """One case (without identity); 404 when there is none."""
    case = _by(conn, "id", request_id)
    if case is None:
        raise NotFoundError(f"Không có phản ánh số {request_id}.",
                            message_en=f"There is no feedback request {request_id}.")
    return case


def by_token(conn: Connection, token: str) -> dict[str, Any]:
    """The case a tracking code belongs to; 404 otherwise."""
    case = _by(conn, "token", token) if 10 <= len(token) <= 64 else None
    if case is None:
        raise NotFoundError("Không có phản ánh với mã theo dõi này.",
                            message_en="No feedback request has this tracking code.")
    return case


def search(conn: Connection, *, ids: list[int] | None = None, service_code: str | None = None,
           status: str | None = None, start: datetime | None = None, end: datetime | None = None,
           department: str | None = None, commune_code: str | None = None, limit: int = 1000
           ) -> list[dict[str, Any]]:
    """Cases matching the filters, newest first (``status`` is open/closed or a step)."""
    where, params = [], {"limit": limit}
    if ids:
        where.append("r.id = ANY(:ids)")
        params["ids"] = ids
    for column, value in (("service_code", service_code), ("department", department),
                          ("commune_code", commune_code)):
        if value:
            where.append(f"r.{column} = :{column}")
            params[column] = value
    if status == "open":
        where.append("r.status NOT IN ('returned', 'closed')")
    elif status == "closed":
        where.append("r.status IN ('returned', 'closed')")
    elif status:
        where.append("r.status = :status")
        params["status"] = status
    if start:
        where.append("r.requested_at >= :start")
        params["start"] = start
    if end:
        where.append("r.requested_at <= :end")
        params["end"] = end
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    rows = conn.execute(text(f"{_PUBLIC}{clause} ORDER BY r.requested_at DESC, r.id DESC "  # noqa: S608
                             "LIMIT :limit"), params).mappings()
    return [dict(r) for r in rows]


DUPLICATE_M, DUPLICATE_DAYS = 300, 14


def similar(conn: Connection, request_id: int) -> list[dict[str, Any]]:
    """Open reports of the same category within 300 m and 14 days of this one: likely the same
    problem, suggested to the operator to handle together."""
    rows = conn.execute(text(
        "SELECT o.id, o.status, o.requested_at, round(ST_Distance(o.geom::geography, "
        "r.geom::geography)) AS metres FROM feedback_requests r JOIN feedback_requests o "
        "ON o.id <> r.id AND o.service_code = r.service_code "
        "AND o.status NOT IN ('returned', 'closed') "
        "AND ST_DWithin(o.geom::geography, r.geom::geography, :m) "
        "AND abs(extract(epoch FROM o.requested_at - r.requested_at)) <= :days * 86400 "
        "WHERE r.id = :id ORDER BY metres, o.id LIMIT 20"),
        {"id": request_id, "m": DUPLICATE_M, "days": DUPLICATE_DAYS}).mappings()
    return [dict(r) for r in rows]


def deadline_state(case: dict[str, Any], on: date | None = None) -> dict[str, Any]:
    """Working days left, and whether the case is overdue or due soon (answered cases are not)."""
    on = on or today()
    answered = case["answered_at"]
    if answered is not None:
        late = answered.astimezone(LOCAL).date() > case["due_on"]
        return {"days_left": None, "overdue": False, "due_soon": False, "answered_late": late}
    left = working_days_between(on, case["due_on"])
    return {"days_left": left, "overdue": on > case["due_on"], "due_soon": 0 <= left <= WARN_DAYS,
            "answered_late": None}


def _event(conn: Connection, request_id: int, actor: str, action: str, status: str,
           note: str | None) -> None:
    conn.execute(text(
        "INSERT INTO feedback_events (request_id, actor, action, status, note) "
        "VALUES (:id, :actor, :action, :status, :note)"),
        {"id": request_id, "actor": actor, "action": action, "status": status, "note": note})


def _audit(conn: Connection, request_id: int, actor: str, action: str, status: str,
           note: str | None) -> None:
    audit.record(conn, f"feedback.{action}", actor=actor, target=f"feedback_requests/{request_id}",
                 details={"status": status, "note": note})


def _step(conn: Connection, request_id: int, actor: str, action: str, status: str,
          note: str | None) -> None:
    """Record one step of a case: its row and its audit entry."""
    _event(conn, request_id, actor, action, status, note)
    _audit(conn, request_id, actor, action, status, note)


def events(conn: Connection, request_id: int) -> list[dict[str, Any]]:
    """The steps of a case, oldest first."""
    rows = conn.execute(text("SELECT at, actor, action, status, note FROM feedback_events "
                             "WHERE request_id = :id ORDER BY id"), {"id": request_id}).mappings()
    return [dict(r) for r in rows]


def _locked(conn: Connection, request_id: int) -> dict[str, Any]:
    row = conn.execute(text("SELECT id, status, assigned_to, department FROM feedback_requests "
                            "WHERE id = :id FOR UPDATE"), {"id": request_id}).mappings().first()
    if row is None:
        get(conn, request_id)
    return dict(row)  # type: ignore[arg-type]


def take(conn: Connection, request_id: int, actor: str) -> dict[str, Any]:
    """Assign the case to ``actor``; 409 when someone else holds it (the row lock decides)."""
    case = _locked(conn, request_id)
    if case["assigned_to"] not in (None, actor):
        raise ConflictError(f"Phản ánh số {request_id} đã do '{case['assigned_to']}' xử lý.",
                            message_en=f"Request {request_id} is already handled by "
                            f"'{case['assigned_to']}'.")
    conn.execute(text("UPDATE feedback_requests SET assigned_to = :a, updated_at = now() "
                      "WHERE id = :id"), {"a": actor, "id": request_id})
    _step(conn, request_id, actor, "taken", case["status"], None)
    return get(conn, request_id)


def forward(conn: Connection, request_id: int, department: str, actor: str, note: str | None
            ) -> dict[str, Any]:
    """Send the case to ``department`` (status forwarded; it is then free to be taken there)."""
    if department not in DEPARTMENTS:
        raise InvalidParameterError(
            f"Không có sở '{department}'. Dùng một trong: {', '.join(DEPARTMENTS)}.",
            message_en=f"There is no department '{department}'. Use one of: "
            f"{', '.join(DEPARTMENTS)}.", parameter="department")
    case = _locked(conn, request_id)
    if "forwarded" not in FLOW[case["status"]] and case["status"] != "forwarded":
        raise _bad_step(case["status"], "forwarded")
    conn.execute(text("UPDATE feedback_requests SET department = :d, status = 'forwarded', "
                      "assigned_to = NULL, updated_at = now() WHERE id = :id"),
                 {"d": department, "id": request_id})
    _step(conn, request_id, actor, "forwarded", "forwarded", _clean(note, "note", 2000))
    return get(conn, request_id)


def _bad_step(current: str, wanted: str) -> ConflictError:
    allowed = ", ".join(FLOW[current]) or "—"
    return ConflictError(
        f"Không thể chuyển từ '{current}' sang '{wanted}'; bước tiếp theo: {allowed}.",
        message_en=f"A case cannot go from '{current}' to '{wanted}'; next steps: {allowed}.")


def advance(conn: Connection, request_id: int, status: str, actor: str, note: str | None = None,
            response: str | None = None) -> dict[str, Any]:
    """Move the case to ``status`` along ``FLOW``; returning it needs the ``response`` to the
    citizen, which becomes public."""
    if status not in FLOW:
        raise InvalidParameterError(f"Không có trạng thái '{status}'.",
                                    message_en=f"There is no status '{status}'.", parameter="status")
    case = _locked(conn, request_id)
    if status not in FLOW[case["status"]]:
        raise _bad_step(case["status"], status)
    response = _clean(response, "response", MAX_DESCRIPTION, required=status == "returned")
    conn.execute(text(
        "UPDATE feedback_requests SET status = :s, updated_at = now(), "
        "response = coalesce(:response, response), "
        "answered_at = CASE WHEN :s = 'returned' THEN coalesce(answered_at, now()) "
        "WHEN :s = 'in_progress' THEN NULL ELSE answered_at END WHERE id = :id"),
        {"s": status, "response": response, "id": request_id})
    _step(conn, request_id, actor, status, status, _clean(note, "note", 2000))
    return get(conn, request_id)


def rate(conn: Connection, token: str, rating: int, comment: str | None) -> dict[str, Any]:
    """The reporter's rating (1–5) of the returned result; 1 or 2 reopens the case."""
    case = by_token(conn, token)
    if case["status"] not in ("returned", "closed"):
        raise ConflictError("Chỉ đánh giá được khi đã có kết quả trả lời.",
                            message_en="A case can be rated only once its result is returned.")
    if not 1 <= rating <= 5:
        raise InvalidParameterError("Điểm đánh giá từ 1 đến 5.",
                                    message_en="The rating is 1 to 5.", parameter="rating")
    _locked(conn, case["id"])
    reopen = rating <= 2
    conn.execute(text("UPDATE feedback_requests SET rating = :r, updated_at = now(), "
                      "status = CASE WHEN :reopen THEN 'in_progress' ELSE status END, "
                      "answered_at = CASE WHEN :reopen THEN NULL ELSE answered_at END "
                      "WHERE id = :id"), {"r": rating, "reopen": reopen, "id": case["id"]})
    note = _clean(comment, "comment", 2000)
    _step(conn, case["id"], "reporter", "rated", "in_progress" if reopen else case["status"],
          f"{rating}/5" + (f": {note}" if note else ""))
    return get(conn, case["id"])


def service_of(case: dict[str, Any]) -> Service:
    """The category of a case."""
    return require_service(case["service_code"])
