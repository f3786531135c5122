"""Report definitions: documents (YAML) naming sections of indicator tables, maps, lists and text.

Each file of ``definitions/`` declares one report; it is validated when read, so a definition
naming an unknown indicator, sector or section kind is refused with the name at fault.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic import ValidationError as PydanticValidationError

from gis_core.errors import InvalidParameterError, NotFoundError, ValidationError
from scenarios.indicators import INDICATORS, SECTORS, Indicator, by_sector, get_indicator
from scenarios.period import check_period

DIRECTORY = Path(__file__).with_name("definitions")
PeriodKind = Literal["month", "quarter", "year"]
_KIND_OF = {True: "quarter", False: "month"}
Title = dict[Literal["vi", "en"], Annotated[str, Field(min_length=1, max_length=300)]]
ROLES = ("operator", "leader", "department_editor", "commune_editor", "viewer", "field_staff")


class Section(BaseModel):
    """One part of a report, in the order it is printed."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["text", "indicators", "map", "chart", "incidents", "incident", "activity"]
    title: Title
    text: Title | None = Field(None, description="text with {placeholders} filled from figures")
    indicators: list[str] = Field(default_factory=list)
    sector: str | None = None
    by: Literal["province", "commune"] = "province"
    indicator: str | None = Field(None, description="the indicator a map colours communes by, or "
                                  "a chart draws over the periods")
    periods: int = Field(4, ge=2, le=12, description="a chart's periods, ending with the report's")

    @model_validator(mode="after")
    def _check(self) -> Section:
        for ind in [*self.indicators, *([self.indicator] if self.indicator else [])]:
            if get_indicator(ind) is None:
                raise ValueError(f"unknown indicator '{ind}'")
        if self.sector is not None and self.sector not in SECTORS:
            raise ValueError(f"unknown sector '{self.sector}' (known: {', '.join(SECTORS)})")
        if self.kind == "indicators" and not (self.indicators or self.sector):
            raise ValueError("an indicators section names 'indicators' or a 'sector'")
        if self.kind in ("map", "chart") and self.indicator is None:
            raise ValueError(f"a {self.kind} section names its 'indicator'")
        if self.kind == "text" and self.text is None:
            raise ValueError("a text section has a 'text'")
        return self

    def chosen(self) -> tuple[Indicator, ...]:
        """The indicators of an indicators section."""
        named = tuple(i for i in INDICATORS if i.id in self.indicators)
        return named + tuple(i for i in by_sector(self.sector) if i not in named) \
            if self.sector else tuple(sorted(named, key=lambda i: self.indicators.index(i.id)))


class Definition(BaseModel):
    """A report: who issues it, for whom, how often, who may read it, and its sections."""

    model_config = ConfigDict(extra="forbid")

    id: str
    title: Title
    kind: Literal["periodic", "thematic", "incident", "activity"]
    periods: list[PeriodKind] = Field(min_length=1)
    schedule: PeriodKind | None = Field(None, description="generated every month/quarter/year")
    audience: list[str] = Field(min_length=1, description="roles that read and generate it")
    issuer: str = "TRUNG TÂM ĐIỀU HÀNH THÔNG MINH TỈNH LAI CHÂU"
    parent: str = "UBND TỈNH LAI CHÂU"
    symbol: str = "BC-TTĐHTM"
    recipients: list[str] = Field(default_factory=lambda: ["Ủy ban nhân dân tỉnh Lai Châu"])
    signer: str = "GIÁM ĐỐC"
    sections: list[Section] = Field(min_length=1)

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z][a-z0-9_]{2,62}", value):
            raise ValueError("id: 3–63 lowercase letters, digits or _")
        return value

    @field_validator("audience")
    @classmethod
    def _audience(cls, value: list[str]) -> list[str]:
        unknown = [r for r in value if r not in ROLES]
        if unknown:
            raise ValueError(f"unknown role(s) {unknown}; roles: {', '.join(ROLES)}")
        return value

    def period_kind(self, period: str) -> str:
        """month, quarter or year of ``period`` (which must be well formed)."""
        period = check_period(period)
        return "year" if len(period) == 4 else _KIND_OF["Q" in period]

    def check_period(self, period: str) -> str:
        """``period`` when this report is made for periods of its kind; a 400 otherwise."""
        kind = self.period_kind(period)
        if kind not in self.periods:
            allowed = ", ".join(self.periods)
            raise InvalidParameterError(
                f"Báo cáo '{self.id}' lập theo kỳ: {allowed}; không lập cho kỳ '{period}'.",
                message_en=f"Report '{self.id}' is made for periods of kind: {allowed}; not for "
                f"'{period}'.", parameter="period")
        return check_period(period)


def parse(text: str, source: str = "definition") -> Definition:
    """A definition from YAML text; a 422 naming what is wrong otherwise."""
    try:
        return Definition.model_validate(yaml.safe_load(text))
    except yaml.YAMLError as err:
        raise ValidationError(f"{source}: YAML không hợp lệ: {err}",
                              message_en=f"{source}: invalid YAML: {err}") from None
    except PydanticValidationError as err:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '—'}: {e['msg']}"
                             for e in err.errors())
        raise ValidationError(f"{source}: định nghĩa báo cáo không hợp lệ: {problems}",
                              message_en=f"{source}: invalid report definition: {problems}") from None


@cache
def definitions() -> dict[str, Definition]:
    """Every shipped definition, by id."""
    out = {}
    for path in sorted(DIRECTORY.glob("*.yaml")):
        d = parse(path.read_text(encoding="utf-8"), path.name)
        out[d.id] = d
    return out


def require(report_id: str) -> Definition:
    """The definition ``report_id``; a 404 listing the known ones otherwise."""
    found = definitions().get(report_id)
    if found is None:
        known = ", ".join(definitions())
        raise NotFoundError(f"Không có báo cáo '{report_id}'. Các báo cáo: {known}.",
                            message_en=f"There is no report '{report_id}'. Reports: {known}.",
                            parameter="report")
    return found
