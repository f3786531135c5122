"""Observations posted over HTTP (a batch, SensorThings ``CreateObservations``): who may, then
the same store as the MQTT listener — idempotent, quarantined, committed before the answer,
published on the SensorThings MQTT topics after the commit, the rules evaluated."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request

from api.cli_iot import open_incident
from gis_core.db import raw_cursor
from gis_core.errors import AuthenticationError, PermissionDeniedError
from governance.access import Principal, foreign_stations
from sensors import ingest, posts
from sensors.sta_mqtt import Publisher
from sensors.store import Outcome, Store

_LOCK = threading.Lock()


def publisher(app: FastAPI) -> Publisher | None:
    """The app's connection to the broker for the SensorThings topics (opened on first use;
    None with ``IOC_STA_MQTT=false``)."""
    if not app.state.settings.sta_mqtt:
        return None
    with _LOCK:
        if getattr(app.state, "sta_publisher", None) is None:
            s = app.state.settings
            app.state.sta_publisher = Publisher(s.mqtt_url, f"{s.base_url}/sta/v1.1",
                                                s.sta_mqtt_prefix)
        return app.state.sta_publisher


def close_publisher(app: FastAPI) -> None:
    """Disconnect the app's publisher, if it was opened."""
    with _LOCK:
        if getattr(app.state, "sta_publisher", None) is not None:
            app.state.sta_publisher.close()
            app.state.sta_publisher = None


@dataclass
class Posted:
    """What became of a posted body: the store's outcome and, per observation, its id or the
    reason it was refused."""

    outcome: Outcome
    fates: list[int | str]


def store_posted(request: Request, caller: Principal, root: str,
                 read: Callable[[Any, Store], posts.Request]) -> Posted:
    """Read the body's observations (``read``), check the caller may post for every station
    named (403 and nothing written otherwise), store, commit; then answer."""
    if caller.is_anonymous:
        raise AuthenticationError(
            "Cần khóa API của trạm (X-API-Key) để gửi số đo.",
            message_en="Posting observations needs the station's API key (X-API-Key).")
    with raw_cursor(request.app.state.engine) as cursor:
        store = Store(open_incident, root=root, publish=publisher(request.app))
        store.ready(cursor)
        body = read(cursor, store)
        foreign = sorted(foreign_stations(caller, body.stations))
        if foreign:
            listed = ", ".join(map(str, foreign[:10]))
            raise PermissionDeniedError(
                f"Khóa này không được gửi số đo cho trạm {listed}; không số đo nào được ghi. "
                "Hãy dùng khóa của trạm đó (phạm vi observe:<mã trạm>).",
                message_en=f"This key may not post observations of station {listed}; nothing was "
                "stored. Use that station's key (scope observe:<station id>).")
        parsed, fates = posts.parse(body, store.streams, store.defaults, root)
        outcome = store.write_parsed(cursor, parsed)
        ids = ingest.ids_of(cursor, parsed.readings)
        cursor.connection.rollback()
    out: list[int | str] = []
    for fate in fates:
        if isinstance(fate, str):
            out.append(fate)
        else:
            r = parsed.readings[fate]
            out.append(ids.get((r.datastream_id, r.time), "not stored"))
    return Posted(outcome, out)
