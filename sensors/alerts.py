"""Rules per observed property (``rules.yaml``, data not code) → alerts → incidents.

A rule is one of four kinds, evaluated on a datastream's latest reading at ``t``:

- ``threshold``: the latest reading is above ``above``;
- ``rise``: the latest reading minus the lowest one in ``[t - window_hours, t]`` is above ``above``
  (a river rising fast, even below its alarm level);
- ``sum``: the readings in ``(t - window_hours, t]`` add up to more than ``above`` (rain
  accumulated over N hours);
- ``silence``: the station has sent nothing for more than ``after_minutes`` (its expected interval
  and some slack). A reading that arrives clears it; only the periodic check
  (``sensors.silence``) raises it, since an arriving reading proves the station is alive.

A rule may be narrowed to stations in some ``communes``; its ``department`` acknowledges its
alerts (besides the operators). An alert is raised, then acknowledged by a person with a note,
then cleared by itself when the condition ends. One alert per rule and datastream is open at a
time: the partial unique key ``uq_sensor_alerts_open`` decides between two workers, so an
incident is opened exactly once; a clearing is written on the incident's timeline once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from gis_core.errors import ConfigurationError, IocError
from layers.departments import DEPARTMENTS
from sensors.catalog import PROPERTIES

LOG = logging.getLogger(__name__)
RULES_FILE = Path(__file__).with_name("rules.yaml")
KINDS = ("threshold", "rise", "sum", "silence")


@dataclass(frozen=True)
class Rule:
    """A rule of ``rules.yaml``."""

    id: str
    property: str
    kind: str
    title: dict[str, str]
    above: float = 0.0
    window_hours: float = 0.0
    after_minutes: float = 0.0
    communes: tuple[str, ...] = ()
    department: str | None = None
    incident: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        problems = []
        if self.kind not in KINDS:
            problems.append(f"kind must be one of {', '.join(KINDS)}")
        if self.property not in PROPERTIES:
            problems.append(f"unknown property {self.property!r}")
        if self.kind in ("rise", "sum") and self.window_hours <= 0:
            problems.append(f"a {self.kind} rule needs window_hours > 0")
        if self.kind == "silence" and (self.after_minutes <= 0 or self.incident):
            problems.append("a silence rule needs after_minutes > 0 and opens no incident")
        if self.department is not None and self.department not in DEPARTMENTS:
            problems.append(f"unknown department {self.department!r}")
        if not {"vi", "en"} <= set(self.title):
            problems.append("title needs vi and en")
        if problems:
            raise ValueError("; ".join(problems))


def parse_rules(text: str, source: str = "rules.yaml") -> tuple[Rule, ...]:
    """The rules of a YAML document (a list of rules); a bad one stops with its id and reason."""
    docs = yaml.safe_load(text) or []
    known = {f.name for f in fields(Rule)}
    out: list[Rule] = []
    for n, doc in enumerate(docs if isinstance(docs, list) else [docs]):
        name = doc.get("id", f"#{n + 1}") if isinstance(doc, dict) else f"#{n + 1}"
        try:
            if not isinstance(doc, dict):
                raise ValueError("a rule is a mapping")
            if extra := set(doc) - known:
                raise ValueError(f"unknown keys {sorted(extra)}")
            out.append(Rule(**{**doc, "communes": tuple(doc.get("communes") or ())}))
        except (TypeError, ValueError) as err:
            raise ConfigurationError(f"{source}: quy tắc {name} không hợp lệ: {err}",
                                     message_en=f"{source}: rule {name} is invalid: {err}") from None
    ids = [r.id for r in out]
    if len(ids) != len(set(ids)):
        raise ConfigurationError(f"{source}: trùng mã quy tắc", message_en=f"{source}: duplicate rule ids")
    return tuple(out)


@lru_cache(maxsize=1)
def rules() -> tuple[Rule, ...]:
    """The rules, read once."""
    return parse_rules(RULES_FILE.read_text(encoding="utf-8"))


def rule(rule_id: str) -> Rule | None:
    """The rule of that id, if it is still declared."""
    return next((r for r in rules() if r.id == rule_id), None)


# (cursor, document) -> incident id. The composition root wires the emergency scenario: a document
# with kind, lon, lat, radius_m, time and title opens an incident (or joins the open one of that
# kind reaching the point); one naming an ``incident`` writes its ``note`` on that incident.
IncidentOpener = Callable[[Any, dict[str, Any]], int]

# A rule's stations: its property, in its communes if it names some.
_VALUES = (
    "SELECT d.id, l.t, CASE %(kind)s WHEN 'threshold' THEN l.v WHEN 'sum' THEN w.total "
    " ELSE l.v - w.low END FROM datastreams d JOIN iot_stations s ON s.id = d.station_id "
    "CROSS JOIN LATERAL (SELECT phenomenon_time t, result v FROM observations o "
    " WHERE o.datastream_id = d.id ORDER BY phenomenon_time DESC LIMIT 1) l "
    "CROSS JOIN LATERAL (SELECT sum(result) FILTER (WHERE o.phenomenon_time > l.t - %(window)s) "
    " total, min(result) low FROM observations o WHERE %(kind)s <> 'threshold' "
    " AND o.datastream_id = d.id AND o.phenomenon_time >= l.t - %(window)s "
    " AND o.phenomenon_time <= l.t) w "
    "WHERE d.id = ANY(%(ds)s) AND d.property = %(property)s AND (cardinality(%(communes)s::text[]) "
    " = 0 OR s.commune_code = ANY(%(communes)s::text[])) ORDER BY d.id")
# Minutes since the latest reading; a station under maintenance is not expected to report.
_SILENCE = (
    "SELECT d.id, l.t, extract(epoch FROM now() - l.t) / 60 FROM datastreams d "
    "JOIN iot_stations s ON s.id = d.station_id "
    "CROSS JOIN LATERAL (SELECT phenomenon_time t FROM observations o "
    " WHERE o.datastream_id = d.id ORDER BY phenomenon_time DESC LIMIT 1) l "
    "WHERE (%(ds)s::bigint[] IS NULL OR d.id = ANY(%(ds)s::bigint[])) "
    "AND s.status IS DISTINCT FROM 'maintenance' AND d.property = %(property)s "
    "AND (cardinality(%(communes)s::text[]) = 0 OR s.commune_code = ANY(%(communes)s::text[])) "
    "ORDER BY d.id")


def _raise(cursor: Any, rule: Rule, stream: int, value: float, at: Any) -> list[int]:
    cursor.execute(
        "INSERT INTO sensor_alerts (rule_id, datastream_id, status, value, phenomenon_time) "
        "VALUES (%s, %s, 'raised', %s, %s) ON CONFLICT (rule_id, datastream_id) "
        "WHERE status <> 'cleared' DO NOTHING RETURNING id", (rule.id, stream, value, at))
    return [r[0] for r in cursor.fetchall()]


def _clear(cursor: Any, rule: Rule, stream: int, value: float) -> None:
    cursor.execute(
        "UPDATE sensor_alerts SET status = 'cleared', cleared_at = now(), cleared_value = %s "
        "WHERE rule_id = %s AND datastream_id = %s AND status <> 'cleared'",
        (value, rule.id, stream))


def evaluate(cursor: Any, datastreams: list[int], *, silence: bool = False,
             among: Sequence[Rule] | None = None) -> list[int]:
    """Raise or clear the alerts of ``datastreams`` (no commit); the ids of the alerts raised.

    On arrival (``silence`` false) a silence rule can only clear; the periodic check passes
    ``silence=True`` with every datastream (``datastreams`` empty means all) and the silence rules.
    """
    if not datastreams and not silence:
        return []
    raised: list[int] = []
    for r in among if among is not None else rules():
        if silence and r.kind != "silence":
            continue
        params = {"kind": r.kind, "window": timedelta(hours=r.window_hours),
                  "ds": datastreams or None, "property": r.property, "communes": list(r.communes)}
        if r.kind == "silence":
            cursor.execute(_SILENCE, params)
            for stream, at, minutes in cursor.fetchall():
                if minutes <= r.after_minutes:
                    _clear(cursor, r, stream, float(minutes))
                elif silence:
                    raised += _raise(cursor, r, stream, round(float(minutes), 1), at)
            continue
        cursor.execute(_VALUES, params)
        for stream, at, value in cursor.fetchall():
            if value is not None and value > r.above:
                raised += _raise(cursor, r, stream, value, at)
            else:
                _clear(cursor, r, stream, value if value is not None else 0.0)
    return raised


def open_incidents(cursor: Any, alert_ids: list[int], opener: IncidentOpener) -> None:
    """Open (or join) an incident for each newly raised alert whose rule asks for one, then
    write on their incidents the alerts cleared since last time. Commits each step."""
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
    note_clearings(cursor, opener)


def note_clearings(cursor: Any, opener: IncidentOpener, limit: int = 100) -> int:
    """Write each cleared alert on its incident's timeline, once; how many were written."""
    cursor.execute(
        "SELECT a.id, a.rule_id, a.incident_id, a.cleared_value, d.unit, s.name "
        "FROM sensor_alerts a JOIN datastreams d ON d.id = a.datastream_id "
        "JOIN iot_stations s ON s.id = d.station_id WHERE a.status = 'cleared' "
        "AND a.incident_id IS NOT NULL AND a.clear_noted_at IS NULL "
        "ORDER BY a.id LIMIT %s FOR UPDATE OF a SKIP LOCKED", (limit,))
    rows = cursor.fetchall()
    for alert_id, rule_id, incident, value, unit, station in rows:
        r = rule(rule_id)
        title = r.title["vi"] if r else rule_id
        opener(cursor, {"incident": incident, "note": f"Hết cảnh báo (tự động): {title} — {station}, "
                        f"hiện {value or 0:g} {unit}"})
        cursor.execute("UPDATE sensor_alerts SET clear_noted_at = now() WHERE id = %s", (alert_id,))
    cursor.connection.commit()
    return len(rows)
