"""Observations posted over HTTP: a batch of station readings, or SensorThings
``CreateObservations`` (the data-array extension), made into the messages ``ingest.parse`` reads.

Each observation becomes one message (topic ``http/<station>`` or ``sta/<station>``), so the
answer can say, item by item, what became of it. An item that cannot even be read as a message
(a data-array row of the wrong length, a foreign feature of interest) is a refusal of its own,
quarantined like the others.

A batch is a JSON array of ``{"station": 12, "phenomenonTime": "…", "result": 1.5}``
(``property`` optional, as over MQTT). ``CreateObservations`` takes the body of OGC 18-088
§14.2: ``[{"Datastream": {"@iot.id": 1}, "components": ["phenomenonTime", "result",
"FeatureOfInterest/id"], "dataArray": [["2026-07-01T10:00:00Z", 12.4, 7]]}]``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from gis_core.errors import InvalidParameterError
from sensors import ingest

MAX_ITEMS = 10_000
# Components of a data array (OGC 18-088 §14.2.1): read, or accepted and not kept (the
# observation's id is the server's, resultTime is the phenomenon time).
READ = {"phenomenonTime", "result", "FeatureOfInterest/id"}
IGNORED = {"id", "resultTime", "resultQuality", "validTime", "parameters"}


@dataclass
class Request:
    """The messages of a posted body and, for each observation, its message or its refusal."""

    messages: list[tuple[str, str]] = field(default_factory=list)
    items: list[int | tuple[str, str, str]] = field(default_factory=list)
    stations: set[int] = field(default_factory=set)

    def add(self, topic: str, item: dict[str, Any], station: int | None) -> None:
        """One observation, read as a message."""
        self.items.append(len(self.messages))
        self.messages.append((topic, json.dumps(item, ensure_ascii=False, default=str)))
        if station is not None:
            self.stations.add(station)

    def refuse(self, topic: str, item: Any, reason: str) -> None:
        """One observation that could not be read, with the reason."""
        self.items.append((topic, json.dumps(item, ensure_ascii=False, default=str)[:2000], reason))


def _bad(vi: str, en: str) -> InvalidParameterError:
    return InvalidParameterError(vi, message_en=en, parameter="body")


def _count(n: int) -> None:
    if n > MAX_ITEMS:
        raise _bad(f"Mỗi lần gửi tối đa {MAX_ITEMS} số đo; hãy chia nhỏ ({n}).",
                   f"At most {MAX_ITEMS} observations a request; split it ({n}).")


def batch(body: Any) -> Request:
    """A batch of station readings (a JSON array)."""
    if not isinstance(body, list):
        raise _bad("Nội dung phải là một mảng JSON các số đo {station, phenomenonTime, result}.",
                   "The body must be a JSON array of {station, phenomenonTime, result}.")
    _count(len(body))
    out = Request()
    for item in body:
        station = item.get("station") if isinstance(item, dict) else None
        if isinstance(station, bool) or not isinstance(station, int):
            out.refuse(f"http/{station}", item, "station must be the integer id of a station")
            continue
        out.add(f"http/{station}", {k: v for k, v in item.items() if k != "station"}, station)
    return out


def data_arrays(body: Any, datastreams: dict[int, tuple[int, str]]) -> Request:
    """The observations of a ``CreateObservations`` body; ``datastreams``: id → (station,
    property). A malformed document is refused whole (nothing stored)."""
    if not isinstance(body, list) or not all(isinstance(d, dict) for d in body):
        raise _bad("Nội dung CreateObservations phải là mảng các đối tượng {Datastream, components, "
                   "dataArray} (OGC 18-088 §14.2).", "The CreateObservations body must be an array "
                   "of {Datastream, components, dataArray} objects (OGC 18-088 §14.2).")
    _count(sum(len(d.get("dataArray") or []) for d in body))
    out = Request()
    for doc in body:
        if "MultiDatastream" in doc:
            raise _bad("Không hỗ trợ MultiDatastream.", "MultiDatastreams are not supported.")
        ds = (doc.get("Datastream") or {}).get("@iot.id") if isinstance(doc.get("Datastream"), dict) \
            else None
        components, rows = doc.get("components"), doc.get("dataArray")
        if isinstance(ds, bool) or not isinstance(ds, int) or not isinstance(components, list) \
                or not isinstance(rows, list):
            raise _bad("Mỗi phần tử cần Datastream.@iot.id (số), components và dataArray (mảng).",
                       "Each element needs Datastream.@iot.id (a number), components and "
                       "dataArray (arrays).")
        unknown = [c for c in components if c not in READ | IGNORED]
        if unknown or not {"phenomenonTime", "result"} <= set(components):
            raise _bad(f"components phải gồm phenomenonTime và result; không biết: {unknown}.",
                       f"components must include phenomenonTime and result; unknown: {unknown}.")
        topic = f"sta/Datastreams({ds})"
        stream = datastreams.get(ds)
        for row in rows:
            if stream is None:
                out.refuse(topic, row, f"no Datastream {ds}")
                continue
            station, prop = stream
            if not isinstance(row, list) or len(row) != len(components):
                out.refuse(topic, row, f"a dataArray row must have {len(components)} values")
                continue
            values = dict(zip(components, row, strict=True))
            foi = values.get("FeatureOfInterest/id", station)
            if foi != station:
                out.refuse(topic, row, f"FeatureOfInterest {foi} is not the one of Datastream "
                           f"{ds} ({station})")
                continue
            out.add(f"sta/{station}", {"phenomenonTime": values["phenomenonTime"],
                                       "result": values["result"], "property": prop}, station)
    return out


def parse(request: Request, streams: dict[tuple[int, str], int], defaults: dict[int, str],
          root: str) -> tuple[ingest.Parsed, list[int | str]]:
    """Parse the messages; for each observation of the request, the index of its reading in
    ``Parsed.readings`` or the reason it was refused (the refusals quarantined with the rest)."""
    parsed = ingest.parse(request.messages, streams, defaults, root=root)
    reading_of = {m: i for i, m in enumerate(parsed.read_from)}
    reason_of = {m: r for m, (_, _, r) in zip(parsed.refused_from, parsed.refused, strict=True)}
    fates: list[int | str] = []
    for item in request.items:
        if isinstance(item, tuple):
            parsed.refused.append(item)
            fates.append(item[2])
        else:
            fates.append(reading_of[item] if item in reading_of else reason_of[item])
    return parsed, fates
