"""What the situation view shows live: each station's latest reading and the open alerts."""

from __future__ import annotations

from typing import Any

from sensors.alerts import rules


def latest(cursor: Any) -> dict[str, Any]:
    """Latest reading per datastream (one index probe each) and the alerts not cleared."""
    cursor.execute(
        "SELECT s.id, s.name, s.kind, d.property, d.unit, l.t, l.v, ST_X(s.geom), ST_Y(s.geom) "
        "FROM datastreams d JOIN iot_stations s ON s.id = d.station_id CROSS JOIN LATERAL "
        "(SELECT phenomenon_time t, result v FROM observations o WHERE o.datastream_id = d.id "
        " ORDER BY phenomenon_time DESC LIMIT 1) l ORDER BY s.id, d.property")
    stations = [{"id": i, "name": n, "kind": k, "property": p, "unit": u, "time": t.isoformat(),
                 "value": v, "lon": x, "lat": y} for i, n, k, p, u, t, v, x, y in cursor.fetchall()]
    titles = {r.id: r.title for r in rules()}
    cursor.execute(
        "SELECT a.id, a.rule_id, a.status, a.value, a.phenomenon_time, a.raised_at, a.incident_id, "
        "s.id, s.name FROM sensor_alerts a JOIN datastreams d ON d.id = a.datastream_id "
        "JOIN iot_stations s ON s.id = d.station_id WHERE a.status <> 'cleared' ORDER BY a.id")
    alerts = [{"id": a, "rule": r, "title": titles.get(r, {"vi": r, "en": r}), "status": st,
               "value": v, "time": t.isoformat(), "raised_at": ra.isoformat(), "incident": inc,
               "station": sid, "station_name": sn}
              for a, r, st, v, t, ra, inc, sid, sn in cursor.fetchall()]
    return {"stations": stations, "alerts": alerts}
