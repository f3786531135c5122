"""From MQTT or HTTP payloads to stored observations: parse, check, insert in batches.

A payload is a JSON object or a list of them: ``{"phenomenonTime": "2026-07-01T10:00:00+07:00",
"result": 12.4, "property": "rain"}`` (``property`` defaults to what the station measures), sent
on the topic ``<root>/<station id>`` (root: ``IOC_MQTT_TOPIC``, ``ioc/stations`` by default).
Inserts are idempotent by (datastream, phenomenon time); what cannot be stored goes to
``observation_quarantine`` with the reason. HTTP posts come through the same ``parse`` with
topics of their own (``http/<station id>``, ``sta/<station id>``), one message per observation,
so that each item's fate (stored, duplicate, refused and why) can be answered.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from psycopg2.extras import execute_values

from sensors.catalog import PROPERTIES, SENSORS

TOPIC_ROOT = "ioc/stations"
MAX_AHEAD = timedelta(minutes=10)
LAYER_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class Reading:
    """One valid observation, ready to insert."""

    datastream_id: int
    time: datetime
    value: float


@dataclass
class Parsed:
    """The readings of a batch of messages and what was refused, with the reason."""

    readings: list[Reading] = field(default_factory=list)
    refused: list[tuple[str, str, str]] = field(default_factory=list)  # topic, payload, reason
    read_from: list[int] = field(default_factory=list)  # the message of each reading
    refused_from: list[int] = field(default_factory=list)  # the message of each refusal


@dataclass(frozen=True)
class Stored:
    """A newly stored observation."""

    id: int
    datastream_id: int
    time: datetime
    value: float


def sync_datastreams(cursor: Any) -> dict[tuple[int, str], int]:
    """Give every measuring station its datastream; the datastream id by (station, property)."""
    kinds = list(SENSORS)
    cursor.execute(
        "INSERT INTO datastreams (station_id, property, unit) SELECT s.id, k.property, k.unit "
        "FROM iot_stations s JOIN unnest(%s::text[], %s::text[], %s::text[]) AS k(kind, property, unit) "
        "ON k.kind = s.kind ORDER BY s.id ON CONFLICT DO NOTHING",
        (kinds, [SENSORS[k].property for k in kinds],
         [PROPERTIES[SENSORS[k].property].unit for k in kinds]))
    cursor.execute("SELECT station_id, property, id FROM datastreams")
    streams = {(s, p): i for s, p, i in cursor.fetchall()}
    cursor.connection.commit()
    return streams


def station_property(cursor: Any) -> dict[int, str]:
    """The property each measuring station reports by default."""
    cursor.execute("SELECT id, kind FROM iot_stations WHERE kind = ANY(%s)", (list(SENSORS),))
    return {i: SENSORS[k].property for i, k in cursor.fetchall()}


def _time(value: Any, now: datetime) -> datetime:
    if not isinstance(value, str):
        raise ValueError("phenomenonTime must be an ISO 8601 string with a UTC offset")
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"phenomenonTime {value!r} is not ISO 8601") from None
    if t.tzinfo is None:
        raise ValueError(f"phenomenonTime {value!r} has no UTC offset")
    if t > now + MAX_AHEAD:
        raise ValueError(f"phenomenonTime {value!r} is in the future")
    return t


def parse(messages: Sequence[tuple[str, bytes | str]], streams: dict[tuple[int, str], int],
          defaults: dict[int, str], now: datetime | None = None, root: str = TOPIC_ROOT) -> Parsed:
    """Readings of ``(topic, payload)`` messages; a refused message or item keeps its reason."""
    now = now or datetime.now(UTC)
    out = Parsed()
    for index, (topic, payload) in enumerate(messages):
        before = len(out.refused)
        text = payload if isinstance(payload, str) else payload.decode("utf-8", "replace")
        key = topic.removeprefix(root + "/")
        if not topic.startswith(root + "/") or not key.isdigit() or int(key) not in defaults:
            out.refused.append((topic, text[:2000], f"unknown station topic {topic!r}"))
            continue
        station = int(key)
        try:
            doc = json.loads(text)
        except ValueError as err:
            out.refused.append((topic, text[:2000], f"malformed JSON: {err}"))
            continue
        items = doc if isinstance(doc, list) else [doc]
        for item in items:
            try:
                out.readings.append(_reading(item, station, streams, defaults, now))
                out.read_from.append(index)
            except ValueError as err:
                out.refused.append((topic, json.dumps(item, ensure_ascii=False)[:2000], str(err)))
        out.refused_from += [index] * (len(out.refused) - before)
    return out


def _reading(item: Any, station: int, streams: dict[tuple[int, str], int],
             defaults: dict[int, str], now: datetime) -> Reading:
    if not isinstance(item, dict):
        raise ValueError("an observation must be a JSON object")
    prop = item.get("property", defaults[station])
    stream = streams.get((station, prop))
    if stream is None:
        raise ValueError(f"station {station} does not measure {prop!r}")
    value = item.get("result")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError("result must be a finite number")
    spec = PROPERTIES[prop]
    if not spec.low <= value <= spec.high:
        raise ValueError(f"result {value} {spec.unit} outside the physical range "
                         f"[{spec.low}, {spec.high}] of {prop}")
    return Reading(stream, _time(item.get("phenomenonTime"), now), float(value))


def ensure_partitions(cursor: Any, times: Iterable[datetime]) -> None:
    """Create the monthly partitions of ``times`` that do not exist yet (late data included)."""
    months = sorted({t.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
                     for t in times})
    if months:
        cursor.execute("SELECT observation_partition(m) FROM unnest(%s::timestamptz[]) m", (months,))


def insert(cursor: Any, parsed: Parsed) -> list[Stored]:
    """Insert a batch (no commit): the observations that were new.

    Rows go in key order so that two workers inserting the same keys wait rather than deadlock.
    """
    rows = sorted({(r.datastream_id, r.time): r.value for r in parsed.readings}.items())
    new: list[tuple[int, int, datetime, float]] = []
    if rows:
        ensure_partitions(cursor, (t for (_, t), _ in rows))
        new = execute_values(
            cursor, "INSERT INTO observations (datastream_id, phenomenon_time, result) VALUES %s "
            "ON CONFLICT (datastream_id, phenomenon_time) DO NOTHING "
            "RETURNING id, datastream_id, phenomenon_time, result",
            [(d, t, v) for (d, t), v in rows], page_size=len(rows), fetch=True)
    if parsed.refused:
        execute_values(cursor, "INSERT INTO observation_quarantine (topic, payload, reason) "
                       "VALUES %s", parsed.refused)
    return [Stored(*row) for row in new]


def ids_of(cursor: Any, readings: Sequence[Reading]) -> dict[tuple[int, datetime], int]:
    """The observation id of each reading's (datastream, phenomenon time), where stored."""
    if not readings:
        return {}
    cursor.execute(
        "SELECT o.datastream_id, o.phenomenon_time, o.id FROM observations o JOIN "
        "unnest(%s::bigint[], %s::timestamptz[]) k(d, t) ON o.datastream_id = k.d "
        "AND o.phenomenon_time = k.t",
        ([r.datastream_id for r in readings], [r.time for r in readings]))
    return {(d, t): i for d, t, i in cursor.fetchall()}


def refresh_layer(cursor: Any, datastreams: list[int]) -> None:
    """Show the latest reading on the ``iot_stations`` layer (at most once a minute a station:
    every layer update is kept in the feature history); a station busy elsewhere is skipped."""
    if not datastreams:
        return
    cursor.execute("SELECT set_config('ioc.actor', 'sensors', true), "
                   "set_config('ioc.source', 'mqtt', true)")
    cursor.execute(
        "WITH latest AS (SELECT d.station_id, d.unit, l.t, l.v FROM datastreams d CROSS JOIN LATERAL "
        " (SELECT phenomenon_time t, result v FROM observations o WHERE o.datastream_id = d.id "
        "  ORDER BY phenomenon_time DESC LIMIT 1) l WHERE d.id = ANY(%(ds)s)), "
        "locked AS (SELECT s.id FROM iot_stations s JOIN latest ON latest.station_id = s.id "
        " WHERE s.last_reading_at IS NULL OR latest.t >= s.last_reading_at + %(every)s "
        " OR (latest.t > s.last_reading_at AND s.status <> 'online') "
        " ORDER BY s.id FOR UPDATE OF s SKIP LOCKED) "
        "UPDATE iot_stations s SET last_value = latest.v, last_reading_at = latest.t, "
        "unit = latest.unit, status = 'online' FROM latest, locked "
        "WHERE locked.id = s.id AND latest.station_id = s.id",
        {"ds": datastreams, "every": LAYER_EVERY})

