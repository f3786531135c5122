"""What the feedback routes share: the database and identity key, and the public view of a case
(Open311 field names; a coarsened point; never the reporter)."""

from __future__ import annotations

import logging
from datetime import datetime, time
from typing import Any

from fastapi import Request
from sqlalchemy.engine import Engine

from feedback import cases, identity, services
from gis_core.errors import IocError
from layers.departments import DEPARTMENTS

LOG = logging.getLogger("ioc.feedback")

# Decimal places kept of public positions: about 100 m, and 1 km for sensitive categories.
PUBLIC_DECIMALS, SENSITIVE_DECIMALS = 3, 2


def engine_and_key(request: Request) -> tuple[Engine, bytes]:
    """The application's engine and the identity key (``var/feedback.key``)."""
    state = request.app.state
    secret = getattr(state, "feedback_key", None)
    if secret is None:
        secret = state.feedback_key = identity.key(state.settings.var_dir)
    return state.engine, secret


def store(request: Request, report: cases.Submission, actor: str = "anonymous"
          ) -> tuple[dict[str, Any], bool]:
    """Record a report in a transaction of its own, then wait for the process's sequencer step
    (``governance.sequencer``): when the sender gets the answer, its audit entry is chained and
    the layer counts it. A failed step leaves the report stored and pending; a later one settles
    it."""
    engine, secret = engine_and_key(request)
    with engine.begin() as conn:
        case, created = cases.submit(conn, secret, report, actor=actor)
    try:
        if not request.app.state.sequencer.wait():
            LOG.warning("report %s stored, to be settled by a later sequencer step", case["id"])
    except IocError as err:
        LOG.warning("report %s stored, to be settled later: %s", case["id"], err.message_en)
    return case, created


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(cases.LOCAL).isoformat(timespec="seconds") if value else None


def public_request(case: dict[str, Any], base_url: str) -> dict[str, Any]:
    """A case as anyone may read it, in GeoReport v2 field names."""
    service = services.require_service(case["service_code"])
    places = SENSITIVE_DECIMALS if service.sensitive else PUBLIC_DECIMALS
    due = datetime.combine(case["due_on"], time(17, 0), cases.LOCAL)
    return {
        "service_request_id": str(case["id"]),
        "status": cases.OPEN311_STATUS.get(case["status"], "open"),
        "status_notes": case["response"],
        "service_name": service.name["vi"],
        "service_code": service.code,
        "description": None if service.sensitive else case["description"],
        "agency_responsible": DEPARTMENTS[case["department"]]["vi"],
        "service_notice": f"Trạng thái: {case['status']}",
        "requested_datetime": _iso(case["requested_at"]),
        "updated_datetime": _iso(case["updated_at"]),
        "expected_datetime": _iso(due),
        "address": None if service.sensitive else case["address"],
        "address_id": None,
        "zipcode": None,
        "lat": round(case["lat"], places),
        "long": round(case["lon"], places),
        "media_url": f"{base_url}/api/v1/feedback/photos/{case['id']}.jpg"
        if case["has_photo"] and not service.sensitive else None,
    }
