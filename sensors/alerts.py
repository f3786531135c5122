"""Rules per observed property (``rules.yaml``, data not code) → alerts → incidents.

An alert is raised when a datastream's latest reading (``threshold``) or the sum of its readings
over a window ending at the latest one (``sum``) goes above the rule; it clears by itself when
the condition ends. One alert per rule and datastream is open at a time: the partial unique key
``uq_sensor_alerts_open`` decides between two workers, so an incident is opened exactly once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from gis_core.errors import IocError

LOG = logging.getLogger(__name__)
RULES_FILE = Path(__file__).with_name("rules.yaml")


@dataclass(frozen=True)
class Rule:
    """A rule of ``rules.yaml``."""

    id: str
    property: str
    kind: str
    above: float
    title: dict[str, str]
    window_hours: float = 0
    incident: dict[str, Any] | None = None


@lru_cache(maxsize=1)
def rules() -> tuple[Rule, ...]:
    """The rules, read once."""
    return tuple(Rule(**doc) for doc in yaml.safe_load(RULES_FILE.read_text(encoding="utf-8")))


# (cursor, incident document) -> incident id; the composition root wires the emergency scenario.
IncidentOpener = Callable[[Any, dict[str, Any]], int]


def evaluate(cursor: Any, datastreams: list[int]) -> list[int]:
    """Raise or clear the alerts of ``datastreams`` (no commit); the ids of the alerts raised."""
    if not datastreams:
        return []
    raised: list[int] = []
    for rule in rules():
        cursor.execute(
            "SELECT d.id, l.t, CASE WHEN %(sum)s THEN w.total ELSE l.v END FROM datastreams d "
            "CROSS JOIN LATERAL (SELECT phenomenon_time t, result v FROM observations o "
            " WHERE o.datastream_id = d.id ORDER BY phenomenon_time DESC LIMIT 1) l "
            "CROSS JOIN LATERAL (SELECT sum(result) total FROM observations o "
            " WHERE %(sum)s AND o.datastream_id = d.id "
            " AND o.phenomenon_time > l.t - make_interval(secs => %(window)s)) w "
            "WHERE d.id = ANY(%(ds)s) AND d.property = %(property)s ORDER BY d.id",
            {"sum": rule.kind == "sum", "window": rule.window_hours * 3600, "ds": datastreams,
             "property": rule.property})
        for stream, at, value in cursor.fetchall():
            if value > rule.above:
                cursor.execute(
                    "INSERT INTO sensor_alerts (rule_id, datastream_id, status, value, phenomenon_time) "
                    "VALUES (%s, %s, 'raised', %s, %s) ON CONFLICT (rule_id, datastream_id) "
                    "WHERE status <> 'cleared' DO NOTHING RETURNING id", (rule.id, stream, value, at))
                raised += [r[0] for r in cursor.fetchall()]
            else:
                cursor.execute(
                    "UPDATE sensor_alerts SET status = 'cleared', cleared_at = now() "
                    "WHERE rule_id = %s AND datastream_id = %s AND status <> 'cleared'",
                    (rule.id, stream))
    return raised


def open_incidents(cursor: Any, alert_ids: list[int], opener: IncidentOpener) -> None:
    """Open an incident around the station of each newly raised alert whose rule asks for one."""
    by_id = {r.id: r for r in rules()}
    for alert_id in alert_ids:
        cursor.execute(
            "SELECT a.rule_id, a.value, a.phenomenon_time, s.name, ST_X(s.geom), ST_Y(s.geom) "
            "FROM sensor_alerts a JOIN datastreams d ON d.id = a.datastream_id "
            "JOIN iot_stations s ON s.id = d.station_id WHERE a.id = %s", (alert_id,))
        row = cursor.fetchone()
        rule = by_id.get(row[0]) if row else None
        if rule is None or not rule.incident:
            continue
        _, value, at, station, lon, lat = row
        document = {"kind": rule.incident["kind"], "radius_m": rule.incident.get("radius_m", 3000),
                    "lon": lon, "lat": lat, "time": at,
                    "title": f"{rule.title['vi']} — {station} ({value:g})"}
        try:
            incident = opener(cursor, document)
        except IocError as err:
            LOG.warning("alert %s: no incident opened: %s", alert_id, err.message_en)
            cursor.connection.rollback()
            continue
        cursor.execute("UPDATE sensor_alerts SET incident_id = %s WHERE id = %s", (incident, alert_id))
        cursor.connection.commit()


def acknowledge(cursor: Any, alert_id: int) -> bool:
    """Mark a raised alert as seen by an operator; false when there is no such open alert."""
    cursor.execute("UPDATE sensor_alerts SET status = 'acknowledged' WHERE id = %s "
                   "AND status = 'raised' RETURNING id", (alert_id,))
    found = cursor.fetchone() is not None
    cursor.connection.commit()
    return found
