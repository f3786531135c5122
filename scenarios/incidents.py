"""Incidents recorded with a status timeline: reported → responding → contained → closed.

Writes happen in the caller's transaction (the caller commits).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from psycopg2 import sql
from pydantic import BaseModel, ConfigDict, Field

from gis_core.errors import InvalidParameterError, NotFoundError
from scenarios.emergency import EmergencyParams, incident_area
from scenarios.selection import outside_error

Status = Literal["reported", "responding", "contained", "closed", "cancelled"]
STATUS_TITLES = {"reported": "Đã tiếp nhận", "responding": "Đang ứng phó", "contained": "Đã kiểm soát",
                 "closed": "Đã kết thúc", "cancelled": "Đã hủy"}
NEXT: dict[str, tuple[str, ...]] = {
    "reported": ("responding", "contained", "closed", "cancelled"),
    "responding": ("contained", "closed"),
    "contained": ("responding", "closed"),
    "closed": (),
    "cancelled": (),
}
OPEN = ("reported", "responding", "contained")


class IncidentIn(EmergencyParams):
    """A new incident: the emergency parameters plus a title."""

    title: str = Field(min_length=1, max_length=300, examples=["Sạt lở tại bản Nà Luồng"])
    time: datetime | None = Field(None, description="Thời điểm xảy ra (mặc định: bây giờ)")


class StatusChange(BaseModel):
    """A move along the timeline."""

    model_config = ConfigDict(extra="forbid")

    status: Status
    note: str | None = Field(None, max_length=2000)


def create(cursor: Any, incident: IncidentIn, actor: str) -> int:
    """Record an incident and its first event; its id."""
    shape, params = incident_area(incident)
    cursor.execute(sql.SQL("SELECT EXISTS (SELECT 1 FROM province p WHERE ST_DWithin("
                           "p.geom::geography, ({})::geography, %(r)s))").format(shape), params)
    if not cursor.fetchone()[0]:
        raise outside_error("Vị trí sự cố", "The incident")
    started = incident.time or datetime.now(UTC)
    cursor.execute(sql.SQL(
        "INSERT INTO incidents (kind, title, geom, radius_m, started_at, status, created_by) "
        "VALUES (%(kind)s, %(title)s, {}, %(r)s, %(t)s, 'reported', %(actor)s) RETURNING id"
    ).format(shape),
        {**params, "kind": incident.kind, "title": incident.title, "t": started, "actor": actor})
    incident_id = cursor.fetchone()[0]
    cursor.execute("INSERT INTO incident_events (incident_id, status, note, actor) "
                   "VALUES (%s, 'reported', %s, %s)", (incident_id, incident.title, actor))
    return incident_id


def note(cursor: Any, incident_id: int, text: str, actor: str) -> None:
    """Write ``text`` on an incident's timeline, its status unchanged."""
    cursor.execute("INSERT INTO incident_events (incident_id, status, note, actor) "
                   "SELECT id, status, %s, %s FROM incidents WHERE id = %s", (text, actor, incident_id))


def covering(cursor: Any, kind: str, lon: float, lat: float) -> int | None:
    """The newest open incident of ``kind`` whose area reaches the point, if any.

    Takes a transaction lock per kind, so that two writers asking at once for the same area
    open one incident between them (the second finds the first's once it commits).
    """
    cursor.execute("SELECT pg_advisory_xact_lock(hashtext('incidents.covering:' || %s))", (kind,))
    cursor.execute(
        "SELECT id FROM incidents WHERE kind = %s AND status = ANY(%s) AND ST_DWithin("
        "geom::geography, ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography, radius_m) "
        "ORDER BY started_at DESC, id DESC LIMIT 1", (kind, list(OPEN), lon, lat))
    row = cursor.fetchone()
    return row[0] if row else None


def _row(r: tuple) -> dict[str, Any]:
    return {"id": r[0], "kind": r[1], "title": r[2], "geometry": r[3], "radius_m": r[4],
            "started_at": r[5].isoformat(), "status": r[6], "status_title": STATUS_TITLES[r[6]],
            "created_by": r[7], "lon": r[8], "lat": r[9]}


_SELECT = ("SELECT id, kind, title, ST_AsGeoJSON(geom, 6)::json, radius_m, started_at, status, "
           "created_by, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM incidents")


def get(cursor: Any, incident_id: int) -> dict[str, Any]:
    """One incident with its timeline; 404 when there is none."""
    cursor.execute(_SELECT + " WHERE id = %s", (incident_id,))
    row = cursor.fetchone()
    if row is None:
        raise NotFoundError(f"Không có sự cố số {incident_id}.",
                            message_en=f"There is no incident {incident_id}.")
    incident = _row(row)
    cursor.execute("SELECT status, note, actor, at FROM incident_events WHERE incident_id = %s "
                   "ORDER BY at, id", (incident_id,))
    incident["timeline"] = [{"status": s, "note": n, "actor": a, "at": at.isoformat()}
                            for s, n, a, at in cursor.fetchall()]
    return incident


def list_incidents(cursor: Any, status: str | None = None, open_only: bool = False
                   ) -> list[dict[str, Any]]:
    """Incidents, newest first."""
    cursor.execute(_SELECT + " WHERE (%(s)s IS NULL OR status = %(s)s) AND (NOT %(o)s OR status = "
                   "ANY(%(open)s)) ORDER BY started_at DESC, id DESC LIMIT 1000",
                   {"s": status, "o": open_only, "open": list(OPEN)})
    return [_row(r) for r in cursor.fetchall()]


def change_status(cursor: Any, incident_id: int, change: StatusChange, actor: str) -> dict[str, Any]:
    """Move an incident along its timeline (allowed moves only); the incident afterwards."""
    cursor.execute("SELECT status FROM incidents WHERE id = %s FOR UPDATE", (incident_id,))
    row = cursor.fetchone()
    if row is None:
        raise NotFoundError(f"Không có sự cố số {incident_id}.",
                            message_en=f"There is no incident {incident_id}.")
    current = row[0]
    if change.status not in NEXT[current]:
        allowed = ", ".join(NEXT[current]) or "—"
        raise InvalidParameterError(
            f"Không thể chuyển sự cố từ '{current}' sang '{change.status}'. Trạng thái tiếp theo "
            f"hợp lệ: {allowed}.", message_en=f"An incident cannot move from '{current}' to "
            f"'{change.status}'. Allowed next statuses: {allowed}.", parameter="status")
    cursor.execute("UPDATE incidents SET status = %s WHERE id = %s", (change.status, incident_id))
    cursor.execute("INSERT INTO incident_events (incident_id, status, note, actor) VALUES (%s, %s, %s, %s)",
                   (incident_id, change.status, change.note, actor))
    return get(cursor, incident_id)


def emergency_params(incident: dict[str, Any]) -> EmergencyParams:
    """The emergency parameters of a stored incident."""
    geometry = incident["geometry"]
    if geometry["type"] == "Point":
        lon, lat = geometry["coordinates"]
        return EmergencyParams(kind=incident["kind"], lon=lon, lat=lat, radius_m=incident["radius_m"],
                               time=datetime.fromisoformat(incident["started_at"]))
    return EmergencyParams(kind=incident["kind"], geometry=geometry, radius_m=incident["radius_m"],
                           time=datetime.fromisoformat(incident["started_at"]))
