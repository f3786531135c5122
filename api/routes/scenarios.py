"""``/api/v1/scenarios``: list, describe and run scenarios; store thematic documents.

One run route per built-in scenario is generated from its ``Params`` model, so the OpenAPI
document shows each scenario's own parameters; stored thematic scenarios run through the
generic ``/{scenario_id}/run``. (No ``from __future__ import annotations`` here: the generated
routes need their parameter models as real annotations.)
"""

from typing import Any

import orjson
from fastapi import APIRouter, Body, Request, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from api.deps import Db
from api.scenario_http import GEOJSON, JSON, actor, overview_cache, respond, wants_geojson
from gis_core.db import raw_cursor, transaction
from governance.access import THEMATIC_AUTHORS
from scenarios import overview, thematic
from scenarios.base import Scenario, default_period
from scenarios.engine import withheld_layers
from scenarios.registry import SCENARIOS, all_scenarios, require_scenario

router = APIRouter(prefix="/api/v1/scenarios", tags=["scenarios"])


# Scenarios that read only layers, reported values and targets (what the data stamp covers): their
# answers are kept per stamp. Emergency ones read incidents; stored thematic ones their document.
_KEPT = {s.id for s in SCENARIOS if s.kind in ("socio_economic", "sector")} | {thematic.INLINE.id}


def execute(request: Request, scenario_id: str, params: BaseModel | dict[str, Any]) -> Response:
    """Run a scenario and answer JSON or, when asked, GeoJSON."""
    geojson = wants_geojson(request)
    with raw_cursor(request.app.state.engine) as cursor:
        if scenario_id in _KEPT and isinstance(params, BaseModel):
            # Kept per data version: a repeat is served from memory, an edit changes the stamp.
            key = ("run", scenario_id, params.model_dump_json(), default_period(), geojson,
                   overview.data_stamp(cursor), withheld_layers())
            body = overview_cache(request).get_or_compute(
                key, lambda: _answer(cursor, require_scenario(cursor, scenario_id), params, geojson))
            return Response(body, media_type=GEOJSON if geojson else JSON)
        scenario = require_scenario(cursor, scenario_id)
        outcome = scenario.run(cursor, params)
        if geojson:
            return respond(outcome.geojson(), GEOJSON)
        return respond(outcome.result)


def _answer(cursor: Any, scenario: Scenario, params: BaseModel, geojson: bool) -> bytes:
    outcome = scenario.run(cursor, params)
    return orjson.dumps(outcome.geojson() if geojson else outcome.result)


def describe(scenario: Scenario) -> dict[str, Any]:
    """A scenario with its parameter schema."""
    return {**scenario.describe(), "parameters": scenario.Params.model_json_schema()}


@router.get("", summary="Danh sách kịch bản / Scenarios")
def list_scenarios(cursor: Db) -> dict[str, Any]:
    """Built-in scenarios (Art. 9a–9d) and stored thematic ones."""
    return {"scenarios": [s.describe() for s in all_scenarios(cursor)]}


@router.post("/thematic", status_code=201,
             summary="Lưu kịch bản chuyên đề (YAML/JSON) / Store a thematic scenario",
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": thematic.ThematicDocument.model_json_schema()},
                 "application/yaml": {"schema": {"type": "string"}}}}})
async def store_thematic(request: Request) -> Response:
    """Validate and store a thematic scenario document (YAML or JSON); run it by its id."""
    who = await run_in_threadpool(actor, request, THEMATIC_AUTHORS)
    doc = thematic.parse_document(await request.body())

    def save() -> None:
        with transaction(request.app.state.engine) as cursor:
            thematic.store(cursor, doc, who)

    await run_in_threadpool(save)
    return respond({"id": doc.id, "links": {"run": f"/api/v1/scenarios/{doc.id}/run",
                                            "process": f"/ogc/processes/{doc.id}"}}, status=201)


@router.get("/{scenario_id}", summary="Một kịch bản và tham số / One scenario and its parameters")
def get_scenario(scenario_id: str, cursor: Db) -> dict[str, Any]:
    """A scenario's description with the JSON Schema of its parameters."""
    return describe(require_scenario(cursor, scenario_id))


def _run_route(scenario: Scenario) -> None:
    params_model = scenario.Params

    def run(request: Request, params: params_model) -> Response:  # type: ignore[valid-type]
        return execute(request, scenario.id, params)

    run.__doc__ = (f"{scenario.title['vi']} / {scenario.title['en']} ({scenario.article}). "
                   "`?f=geojson` hoặc `Accept: application/geo+json` cho GeoJSON.")
    router.add_api_route(f"/{scenario.id}/run", run, methods=["POST"], name=f"run_{scenario.id}",
                         summary=f"Chạy / run: {scenario.title['vi']}", response_model=None)


for _scenario in SCENARIOS:
    _run_route(_scenario)


@router.post("/{scenario_id}/run", summary="Chạy kịch bản chuyên đề đã lưu / Run a stored scenario",
             response_model=None)
def run_stored(scenario_id: str, request: Request,
               params: thematic.ThematicRunParams = Body(default_factory=dict)) -> Response:  # noqa: B008
    """Run a stored thematic scenario; fields given replace the document's."""
    return execute(request, scenario_id, params)
