"""``/api/v1/incidents``: record incidents, move them along their timeline, see what they reach."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from api.deps import Db, Tx
from api.scenario_http import GEOJSON, actor, respond, wants_geojson
from governance.access import INCIDENT_REPORTERS
from scenarios import emergency, incidents

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"])


@router.get("", summary="Danh sách sự cố / Incidents")
def list_incidents(cursor: Db, status: incidents.Status | None = None,
                   open: bool = False) -> dict[str, Any]:  # noqa: A002 - the query parameter's name
    """Incidents, newest first; ``open=true`` for those not closed or cancelled."""
    return {"incidents": incidents.list_incidents(cursor, status, open)}


@router.post("", status_code=201, summary="Ghi nhận sự cố / Record an incident")
def create_incident(request: Request, cursor: Tx, incident: incidents.IncidentIn) -> dict[str, Any]:
    """Record an incident (status 'reported'); its impact is at ``/{id}/impact``."""
    incident_id = incidents.create(cursor, incident, actor(request, INCIDENT_REPORTERS))
    return incidents.get(cursor, incident_id)


@router.get("/{incident_id}", summary="Một sự cố và diễn biến / One incident and its timeline")
def get_incident(cursor: Db, incident_id: int) -> dict[str, Any]:
    """One incident with its status timeline."""
    return incidents.get(cursor, incident_id)


@router.post("/{incident_id}/status", summary="Chuyển trạng thái / Change status")
def change_status(request: Request, cursor: Tx, incident_id: int, change: incidents.StatusChange
                  ) -> dict[str, Any]:
    """Move the incident along reported → responding → contained → closed (or cancelled)."""
    return incidents.change_status(cursor, incident_id, change, actor(request, INCIDENT_REPORTERS))


@router.get("/{incident_id}/impact", response_model=None,
            summary="Ảnh hưởng của sự cố / What the incident reaches")
def incident_impact(request: Request, cursor: Db, incident_id: int) -> Response:
    """The emergency scenario for a recorded incident (``?f=geojson`` for the map)."""
    geojson = wants_geojson(request)
    incident = incidents.get(cursor, incident_id)
    outcome = emergency.SCENARIO.run(cursor, incidents.emergency_params(incident))
    if geojson:
        return respond({**outcome.geojson(), "incident": incident["id"]}, GEOJSON)
    return respond({**outcome.result, "incident": incident})
