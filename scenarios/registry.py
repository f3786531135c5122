"""The explicit registry of built-in scenarios; stored thematic documents join them at run time."""

from __future__ import annotations

from typing import Any

from gis_core.errors import NotFoundError
from scenarios import emergency, socio_economic, thematic
from scenarios.base import Scenario
from scenarios.sector import SCENARIOS as SECTOR_SCENARIOS

SCENARIOS: tuple[Scenario, ...] = (
    socio_economic.SCENARIO,
    *SECTOR_SCENARIOS,
    thematic.INLINE,
    emergency.SCENARIO,
)
_BY_ID = {s.id: s for s in SCENARIOS}
thematic.RESERVED.update(_BY_ID)


def all_scenarios(cursor: Any) -> list[Scenario]:
    """Built-in scenarios, then the stored thematic ones."""
    return [*SCENARIOS, *(thematic.scenario_for(d) for d in thematic.stored(cursor))]


def require_scenario(cursor: Any, scenario_id: str) -> Scenario:
    """A built-in or stored scenario; 404 naming where to look otherwise."""
    found = _BY_ID.get(scenario_id)
    if found is not None:
        return found
    doc = thematic.load(cursor, scenario_id)
    if doc is None:
        known = ", ".join(_BY_ID)
        raise NotFoundError(
            f"Không có kịch bản '{scenario_id}'. Kịch bản có sẵn: {known}; kịch bản chuyên đề đã lưu "
            "xem tại /api/v1/scenarios.",
            message_en=f"There is no scenario '{scenario_id}'. Built-in: {known}; stored thematic "
            "scenarios are listed at /api/v1/scenarios.")
    return thematic.scenario_for(doc)
