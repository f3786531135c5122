"""OGC API - Processes at ``/ogc/processes``: every scenario as a process, through one adapter.

A process description's inputs come from the scenario's own parameter model (its JSON Schema,
one input per field); execution is synchronous and answers the scenario's result (JSON, or
GeoJSON when the ``geojson`` output is asked for). The routes sit before the pygeoapi mount,
whose landing page already links ``/processes``; the Processes conformance classes join
pygeoapi's list.
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi import APIRouter, Body, Request, Response

from api.scenario_http import GEOJSON, JSON, respond
from gis_core.db import raw_cursor
from gis_core.errors import InvalidParameterError
from scenarios.base import Scenario
from scenarios.registry import all_scenarios, require_scenario

_CONF = "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/"
PROCESSES_CONFORMANCE = [f"{_CONF}{c}" for c in ("core", "ogc-process-description", "json", "oas30")]
VERSION = "1.0.0"
router = APIRouter(prefix="/ogc/processes", tags=["OGC API - Processes"])


def _base(request: Request) -> str:
    return f"{request.app.state.settings.base_url}/ogc/processes"


def _inline(schema: Any, defs: dict[str, Any]) -> Any:
    """The schema with its ``$ref``s to ``$defs`` replaced by the definitions themselves."""
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(copy.deepcopy(defs[ref.removeprefix("#/$defs/")]), defs)
        # The discriminator's mapping points into $defs, which the inlined schema no longer has.
        return {k: _inline(v, defs) for k, v in schema.items() if k not in ("$defs", "discriminator")}
    if isinstance(schema, list):
        return [_inline(v, defs) for v in schema]
    return schema


def summary(scenario: Scenario, base: str) -> dict[str, Any]:
    """The process summary of a scenario."""
    return {
        "id": scenario.id, "title": scenario.title["vi"], "description": scenario.description["vi"],
        "version": VERSION, "keywords": [scenario.kind, scenario.article],
        "jobControlOptions": ["sync-execute"], "outputTransmission": ["value"],
        "links": [{"href": f"{base}/{scenario.id}", "rel": "self", "type": JSON,
                   "title": scenario.title["en"]},
                  {"href": f"{base}/{scenario.id}/execution", "rel":
                   "http://www.opengis.net/def/rel/ogc/1.0/execute", "type": JSON,
                   "title": "Execute (sync)"}],
    }


def description(scenario: Scenario, base: str) -> dict[str, Any]:
    """The full process description: inputs from the parameter model, two outputs."""
    schema = scenario.Params.model_json_schema()
    defs = schema.get("$defs", {})
    required = set(schema.get("required", ()))
    inputs = {}
    for name, prop in schema.get("properties", {}).items():
        prop = _inline(prop, defs)
        inputs[name] = {"title": prop.get("title", name), "description": prop.get("description", ""),
                        "schema": {k: v for k, v in prop.items() if k not in ("title", "description")},
                        "minOccurs": 1 if name in required else 0, "maxOccurs": 1}
    return {
        **summary(scenario, base), "inputs": inputs,
        "outputs": {
            "result": {"title": "Kết quả / result", "description": "JSON result",
                       "schema": {"type": "object", "contentMediaType": JSON}},
            "geojson": {"title": "GeoJSON cho bản đồ / for the map",
                        "schema": {"type": "object", "contentMediaType": GEOJSON}},
        },
    }


@router.get("", summary="Danh sách process / Process list")
def list_processes(request: Request) -> dict[str, Any]:
    """Every scenario as a process."""
    base = _base(request)
    with raw_cursor(request.app.state.engine) as cursor:
        processes = [summary(s, base) for s in all_scenarios(cursor)]
    return {"processes": processes,
            "links": [{"href": base, "rel": "self", "type": JSON, "title": "Processes"}]}


@router.get("/{process_id}", summary="Mô tả process / Process description")
def get_process(process_id: str, request: Request) -> dict[str, Any]:
    """A process description with inputs derived from the scenario's parameter model."""
    with raw_cursor(request.app.state.engine) as cursor:
        return description(require_scenario(cursor, process_id), _base(request))


@router.post("/{process_id}/execution", response_model=None,
             summary="Thực thi đồng bộ / Execute synchronously")
def execute(process_id: str, request: Request,
            body: dict[str, Any] = Body(..., examples=[{"inputs": {  # noqa: B008
                "selection": {"type": "radius", "lon": 103.46, "lat": 22.40, "radius_m": 5000}}}]),
            ) -> Response:
    """Run the scenario with ``inputs``; ``outputs`` may name ``result`` or ``geojson``."""
    inputs = body.get("inputs", {})
    if not isinstance(inputs, dict):
        raise InvalidParameterError("'inputs' phải là một đối tượng JSON.",
                                    message_en="'inputs' must be a JSON object.", parameter="inputs")
    outputs = body.get("outputs") or {}
    if not isinstance(outputs, dict):
        raise InvalidParameterError("'outputs' phải là một đối tượng JSON, ví dụ {\"geojson\": {}}.",
                                    message_en="'outputs' must be a JSON object, e.g. "
                                    "{\"geojson\": {}}.", parameter="outputs")
    unknown = [o for o in outputs if o not in ("result", "geojson")]
    if unknown:
        raise InvalidParameterError(
            f"Đầu ra không có: {', '.join(unknown)}. Dùng 'result' hoặc 'geojson'.",
            message_en=f"Unknown outputs: {', '.join(unknown)}. Use 'result' or 'geojson'.",
            parameter="outputs")
    geojson = "geojson" in outputs and "result" not in outputs
    with raw_cursor(request.app.state.engine) as cursor:
        outcome = require_scenario(cursor, process_id).run(cursor, inputs)
        value = outcome.geojson() if geojson else outcome.result
    if body.get("response") == "document":
        return respond({"geojson" if geojson else "result": value})
    return respond(value, GEOJSON if geojson else JSON)


def register_conformance() -> None:
    """Add the Processes conformance classes to pygeoapi's list (it serves /ogc/conformance)."""
    from pygeoapi import api as pygeoapi_api

    for uri in PROCESSES_CONFORMANCE:
        if uri not in pygeoapi_api.CONFORMANCE_CLASSES:
            pygeoapi_api.CONFORMANCE_CLASSES.append(uri)
