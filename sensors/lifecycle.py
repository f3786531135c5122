"""An alert as people handle it: listed, read, acknowledged with a note (raised → acknowledged);
it clears by itself (``sensors.alerts``).

Who acknowledges: an operator or a leader, or an editor of the department the rule names. The
alert's row is locked while it is acknowledged, so of two people acknowledging it at once one
succeeds and the other is told who was first (409). Each acknowledgement is audited.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from gis_core.errors import ConflictError, NotFoundError
from governance import audit
from governance.access import Principal
from layers.departments import DEPARTMENTS
from sensors.alerts import Rule, rule

ACKNOWLEDGERS = frozenset({"operator", "leader", "department_editor"})
OPERATOR_UNIT = "operator"
UNIT_TITLES = {OPERATOR_UNIT: {"vi": "Bộ phận vận hành", "en": "Operations"},
               "leader": {"vi": "Lãnh đạo tỉnh", "en": "Provincial leadership"}, **DEPARTMENTS}
_SELECT = (
    "SELECT a.id, a.rule_id, a.status, a.value, a.phenomenon_time, a.raised_at, a.incident_id, "
    "a.acknowledged_at, a.acknowledged_by, a.acknowledged_unit, a.acknowledged_note, "
    "a.cleared_at, a.cleared_value, s.id AS station, s.name AS station_name, s.commune_code, "
    "d.property, d.unit FROM sensor_alerts a JOIN datastreams d ON d.id = a.datastream_id "
    "JOIN iot_stations s ON s.id = d.station_id")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _row(m: Any) -> dict[str, Any]:
    r = rule(m["rule_id"])
    return {
        "id": m["id"], "rule": m["rule_id"], "kind": r.kind if r else None,
        "title": r.title if r else {"vi": m["rule_id"], "en": m["rule_id"]},
        "department": r.department if r else None, "status": m["status"], "value": m["value"],
        "unit": m["unit"], "property": m["property"], "time": _iso(m["phenomenon_time"]),
        "raised_at": _iso(m["raised_at"]), "incident": m["incident_id"],
        "station": m["station"], "station_name": m["station_name"],
        "commune_code": m["commune_code"],
        "acknowledged": None if m["acknowledged_at"] is None else {
            "at": _iso(m["acknowledged_at"]), "by": m["acknowledged_by"],
            "unit": m["acknowledged_unit"], "note": m["acknowledged_note"]},
        "cleared": None if m["cleared_at"] is None else {
            "at": _iso(m["cleared_at"]), "value": m["cleared_value"]},
    }


def listing(conn: Connection, *, status: str | None = None, open_only: bool = False,
            limit: int = 200) -> list[dict[str, Any]]:
    """Alerts, newest first (``open_only``: not cleared)."""
    rows = conn.execute(text(
        _SELECT + " WHERE (CAST(:s AS text) IS NULL OR a.status = :s) "
        "AND (NOT :open OR a.status <> 'cleared') ORDER BY a.id DESC LIMIT :limit"),
        {"s": status, "open": open_only, "limit": limit}).mappings()
    return [_row(m) for m in rows]


def get(conn: Connection, alert_id: int, *, lock: bool = False) -> dict[str, Any]:
    """One alert; 404 when there is none. ``lock`` holds its row until the transaction ends."""
    m = conn.execute(text(_SELECT + " WHERE a.id = :id" + (" FOR UPDATE OF a" if lock else "")),
                     {"id": alert_id}).mappings().first()
    if m is None:
        raise NotFoundError(f"Không có cảnh báo số {alert_id}.",
                            message_en=f"There is no alert {alert_id}.")
    return _row(m)


def unit_of(principal: Principal) -> str:
    """The unit an acknowledgement is made in the name of."""
    if principal.role == "department_editor" and principal.department:
        return principal.department
    return OPERATOR_UNIT if principal.role == "operator" else "leader"


def may_acknowledge(principal: Principal, r: Rule | None) -> bool:
    """Operators and leaders acknowledge any alert; a department's editors those of its rules."""
    if principal.role in ("operator", "leader"):
        return True
    return (principal.role == "department_editor" and r is not None
            and r.department is not None and principal.department == r.department)


def acknowledge(conn: Connection, alert_id: int, principal: Principal, note: str) -> dict[str, Any]:
    """Mark a raised alert as seen, with a note, audited (the caller's transaction); 409 when it
    was acknowledged already or has cleared. Permission is checked by the caller first."""
    alert = get(conn, alert_id, lock=True)
    if alert["status"] == "acknowledged":
        ack = alert["acknowledged"]
        unit = UNIT_TITLES.get(ack["unit"], {"vi": ack["unit"], "en": ack["unit"]})
        raise ConflictError(
            f"Cảnh báo số {alert_id} đã được {ack['by']} ({unit['vi']}) xác nhận lúc "
            f"{ack['at'][:16].replace('T', ' ')}; không cần xác nhận lại.",
            message_en=f"Alert {alert_id} was acknowledged by {ack['by']} ({unit['en']}) at "
            f"{ack['at'][:16].replace('T', ' ')}; there is nothing more to acknowledge.")
    if alert["status"] == "cleared":
        raise ConflictError(
            f"Cảnh báo số {alert_id} đã tự hết lúc {alert['cleared']['at'][:16].replace('T', ' ')}; "
            "không cần xác nhận.", message_en=f"Alert {alert_id} cleared by itself at "
            f"{alert['cleared']['at'][:16].replace('T', ' ')}; there is nothing to acknowledge.")
    unit = unit_of(principal)
    conn.execute(text(
        "UPDATE sensor_alerts SET status = 'acknowledged', acknowledged_at = now(), "
        "acknowledged_by = :by, acknowledged_unit = :unit, acknowledged_note = :note "
        "WHERE id = :id"), {"id": alert_id, "by": principal.username, "unit": unit, "note": note})
    audit.record(conn, "sensor_alert.acknowledge", actor=principal,
                 target=f"sensor_alerts/{alert_id}",
                 details={"rule": alert["rule"], "station": alert["station"], "unit": unit,
                          "note": note, "incident": alert["incident"]})
    return get(conn, alert_id)
