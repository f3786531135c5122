"""What the situation view shows live: each station's latest reading and the open alerts, with
their acknowledgement (when and by which unit; who and the note are for staff, through
``/api/v1/sensors/alerts``)."""

from __future__ import annotations

from typing import Any

from sensors.alerts import rules


def latest(cursor: Any) -> dict[str, Any]:
    """Latest reading per datastream (one index probe each) and the alerts not cleared."""
    cursor.execute(
        "SELECT s.id, s.name, s.kind, s.status, d.id, d.property, d.unit, l.t, l.v, ST_X(s.geom), "
        "ST_Y(s.geom) FROM datastreams d JOIN iot_stations s ON s.id = d.station_id CROSS JOIN "
        "LATERAL (SELECT phenomenon_time t, result v FROM observations o WHERE o.datastream_id = "
        "d.id ORDER BY phenomenon_time DESC LIMIT 1) l ORDER BY s.id, d.property")
    stations = [{"id": i, "name": n, "kind": k, "status": st, "datastream": ds, "property": p,
                 "unit": u, "time": t.isoformat(), "value": v, "lon": x, "lat": y}
                for i, n, k, st, ds, p, u, t, v, x, y in cursor.fetchall()]
    by_id = {r.id: r for r in rules()}
    cursor.execute(
        "SELECT a.id, a.rule_id, a.status, a.value, a.phenomenon_time, a.raised_at, a.incident_id, "
        "a.acknowledged_at, a.acknowledged_unit, s.id, s.name, d.unit FROM sensor_alerts a "
        "JOIN datastreams d ON d.id = a.datastream_id JOIN iot_stations s ON s.id = d.station_id "
        "WHERE a.status <> 'cleared' ORDER BY a.id")
    alerts = []
    for a, r, st, v, t, ra, inc, ack_at, ack_unit, sid, sn, unit in cursor.fetchall():
        rule = by_id.get(r)
        alerts.append({
            "id": a, "rule": r, "kind": rule.kind if rule else None,
            "title": rule.title if rule else {"vi": r, "en": r},
            "department": rule.department if rule else None, "status": st, "value": v,
            "unit": "min" if rule and rule.kind == "silence" else unit, "time": t.isoformat(),
            "raised_at": ra.isoformat(), "incident": inc, "station": sid, "station_name": sn,
            "acknowledged": None if ack_at is None else {"at": ack_at.isoformat(),
                                                         "unit": ack_unit}})
    return {"stations": stations, "alerts": alerts}
