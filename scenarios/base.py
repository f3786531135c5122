"""What a scenario is: an id, titles, a parameter model and a ``run``; plus the indicator scenario.

The HTTP route, the CLI command and the OGC API Process of a scenario all derive from its
``Params`` model, so its OpenAPI description is never written by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic import ValidationError as PydanticValidationError

from gis_core.bounds import unique_list
from gis_core.errors import InvalidParameterError, ValidationError
from scenarios.engine import GroupBy, Request, evaluate, to_geojson
from scenarios.indicators import INDICATORS, Indicator, require_indicator
from scenarios.period import check_optional_period
from scenarios.selection import ProvinceSelection, Selection, resolve

# The plan period the declared targets cover ends here; later years need targets entered.
LAST_PLAN_YEAR = max(t.end for i in INDICATORS for t in i.targets)


def default_period() -> str:
    """This year, or the last year of the plan when today is past it."""
    return str(min(date.today().year, LAST_PLAN_YEAR))


class RunParams(BaseModel):
    """Parameters every indicator scenario takes."""

    model_config = ConfigDict(extra="forbid")

    selection: Selection = Field(default_factory=lambda: ProvinceSelection(type="province"),
                                 description="Vùng chọn / selection: point, radius, polygon, "
                                 "communes or province")
    group_by: GroupBy = Field(
        "commune", description="Nhóm theo / group by: commune, sector, period or none")
    period: str | None = Field(None, description="Kỳ / period: 2025, 2025-Q3 or 2025-07 "
                               "(default: this year within the plan)", examples=["2025"])
    at_risk_margin: float = Field(0.1, ge=0, le=1, description="Biên 'có nguy cơ' / at-risk "
                                  "margin, as a share of the target")
    indicators: unique_list(str, len(INDICATORS), 1) | None = Field(  # type: ignore[valid-type]
        None, description="Chỉ một số chỉ tiêu / only these indicators (ids, each once)")
    drilldown_limit: int = Field(20, ge=0, le=1000, description="Số đối tượng tối đa sau mỗi "
                                 "cảnh báo / features behind each red flag")

    @field_validator("period")
    @classmethod
    def _period(cls, value: str | None) -> str | None:
        return check_optional_period(value)


@dataclass
class Outcome:
    """A scenario's answer: JSON, and GeoJSON for the map on demand."""

    result: dict[str, Any]
    geojson: Callable[[], dict[str, Any]]


@dataclass(frozen=True)
class Scenario:
    """A declared scenario."""

    id: str
    title: dict[str, str]
    description: dict[str, str]
    article: str
    kind: Literal["socio_economic", "sector", "thematic", "emergency"]
    Params: type[BaseModel]
    runner: Callable[[Any, Any], Outcome]

    def run(self, cursor: Any, params: BaseModel | dict[str, Any]) -> Outcome:
        """Validate ``params`` (a dict or the model) and run on ``cursor``."""
        if isinstance(params, self.Params):
            return self.runner(cursor, params)
        try:
            model = self.Params.model_validate(params)
        except PydanticValidationError as err:
            problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '—'}: {e['msg']}"
                                 for e in err.errors())
            raise ValidationError(f"Tham số kịch bản không hợp lệ: {problems}",
                                  message_en=f"The scenario parameters are invalid: {problems}",
                                  parameter="inputs") from None
        return self.runner(cursor, model)

    def describe(self) -> dict[str, Any]:
        """Public description, with links."""
        return {"id": self.id, "title": self.title, "description": self.description,
                "article": self.article, "kind": self.kind,
                "links": {"run": f"/api/v1/scenarios/{self.id}/run",
                          "process": f"/ogc/processes/{self.id}"}}


def pick(indicators: tuple[Indicator, ...], ids: list[str] | None) -> tuple[Indicator, ...]:
    """The indicators named by ``ids`` (each must exist and belong to the scenario)."""
    if not ids:
        return indicators
    chosen = []
    for ind_id in ids:
        ind = require_indicator(ind_id, "indicators")
        if ind not in indicators:
            allowed = ", ".join(i.id for i in indicators)
            raise InvalidParameterError(
                f"Chỉ tiêu '{ind_id}' không thuộc kịch bản này. Chọn trong: {allowed}.",
                message_en=f"Indicator '{ind_id}' is not part of this scenario. Choose from: {allowed}.",
                parameter="indicators")
        chosen.append(ind)
    return tuple(chosen)


def run_indicators(cursor: Any, indicators: tuple[Indicator, ...], params: RunParams,
                   thresholds: dict[str, float] | None = None, threshold_basis: str = "",
                   meta: dict[str, Any] | None = None) -> Outcome:
    """Evaluate ``indicators`` as ``params`` ask; the common run of indicator scenarios."""
    area = resolve(cursor, params.selection)
    request = Request(
        indicators=pick(indicators, params.indicators), area=area,
        period=params.period or default_period(), group_by=params.group_by,
        at_risk_margin=params.at_risk_margin, drilldown_limit=params.drilldown_limit,
        thresholds=thresholds or {}, threshold_basis=threshold_basis)
    result = {**(meta or {}), **evaluate(cursor, request)}
    return Outcome(result, lambda: {**(meta or {}), **to_geojson(cursor, request, result)})


def indicator_scenario(id: str, title: dict[str, str], description: dict[str, str], article: str,
                       kind: Literal["socio_economic", "sector"],
                       indicators: tuple[Indicator, ...],
                       defaults: dict[str, Any] | None = None) -> Scenario:
    """A scenario that evaluates a fixed set of indicators; its Params list them in the schema."""
    ids = [i.id for i in indicators]
    doc = f"Chỉ tiêu / indicators: {', '.join(ids)}"
    params_model = type(f"{''.join(p.title() for p in id.split('_'))}Params", (RunParams,), {
        "__doc__": f"{title['en']}. {doc}",
        "__annotations__": {"group_by": GroupBy},
        "group_by": Field((defaults or {}).get("group_by", "commune"),
                          description="Nhóm theo / group by: commune, sector, period or none"),
        "__module__": __name__,
    })
    meta = {"scenario": id, "title": title}
    return Scenario(id, title, description, article, kind, params_model,
                    lambda cursor, p: run_indicators(cursor, indicators, p, meta=meta))
