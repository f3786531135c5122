"""Thematic scenarios (Article 9c): defined by an operator in a YAML or JSON document, validated,
stored and run without writing code.

A document names its indicators (from the catalogue), a default selection, grouping and period,
and optional thresholds that replace the targets for this theme, with the instruction they follow.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic import ValidationError as PydanticValidationError

from gis_core.bounds import unique_list
from gis_core.errors import InvalidParameterError, ValidationError
from scenarios.base import Outcome, RunParams, Scenario, run_indicators
from scenarios.engine import GroupBy
from scenarios.indicators import INDICATORS, get_indicator, require_indicator
from scenarios.period import check_optional_period
from scenarios.selection import ProvinceSelection, Selection

_ID = re.compile(r"^[a-z][a-z0-9_]{2,62}$")
MAX_DOCUMENT_BYTES = 64 * 1024


class ThematicDocument(BaseModel):
    """An operator's scenario: indicators, selection, grouping and thresholds."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="Mã kịch bản / id: lowercase letters, digits, _",
                    examples=["xoa_nha_tam_2025"])
    title: dict[Literal["vi", "en"], Annotated[str, Field(min_length=1, max_length=200)]] | \
        Annotated[str, Field(min_length=1, max_length=200)] = Field(
            examples=[{"vi": "Xóa nhà tạm 2025", "en": "Temporary houses 2025"}])
    description: str | None = Field(None, max_length=2000)
    instruction: str | None = Field(None, max_length=2000,
                                    description="Văn bản chỉ đạo / the leader's instruction")
    indicators: unique_list(str, len(INDICATORS), 1)  # type: ignore[valid-type]
    selection: Selection = Field(default_factory=lambda: ProvinceSelection(type="province"))
    group_by: GroupBy = "commune"
    period: str | None = None
    at_risk_margin: float = Field(0.1, ge=0, le=1)
    thresholds: dict[str, Annotated[float, Field(allow_inf_nan=False)]] = Field(
        default_factory=dict, description="indicator id → target for this theme")

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("id: 3–63 lowercase letters, digits or _, starting with a letter")
        if value in RESERVED:
            raise ValueError(f"id '{value}' is a built-in scenario")
        return value

    @field_validator("period")
    @classmethod
    def _period(cls, value: str | None) -> str | None:
        return check_optional_period(value)

    @model_validator(mode="after")
    def _known(self) -> ThematicDocument:
        unknown = [i for i in [*self.indicators, *self.thresholds] if get_indicator(i) is None]
        if unknown:
            raise ValueError(f"unknown indicators {', '.join(unknown)}; see /api/v1/indicators")
        extra = set(self.thresholds) - set(self.indicators)
        if extra:
            raise ValueError(f"thresholds for indicators not listed: {', '.join(sorted(extra))}")
        return self

    def titles(self) -> dict[str, str]:
        """Titles in both languages (one given stands for both)."""
        if isinstance(self.title, str):
            return {"vi": self.title, "en": self.title}
        vi = self.title.get("vi") or self.title.get("en") or self.id
        return {"vi": vi, "en": self.title.get("en") or vi}


RESERVED: set[str] = set()  # filled by the registry with the built-in ids


class ThematicRunParams(RunParams):
    """Run a stored thematic scenario; fields given here replace the document's."""

    group_by: GroupBy | None = None  # type: ignore[assignment]
    selection: Selection | None = None  # type: ignore[assignment]
    at_risk_margin: float | None = Field(None, ge=0, le=1)  # type: ignore[assignment]


class InlineThematicParams(BaseModel):
    """Run a thematic document given inline, without storing it."""

    model_config = ConfigDict(extra="forbid")

    document: ThematicDocument


def parse_document(body: bytes | str | dict[str, Any]) -> ThematicDocument:
    """A validated document from YAML or JSON text (or a parsed mapping); 422 saying what is wrong."""
    if isinstance(body, bytes | str):
        raw = body.encode() if isinstance(body, str) else body
        if len(raw) > MAX_DOCUMENT_BYTES:
            raise InvalidParameterError("Tài liệu quá lớn (tối đa 64 KB).",
                                        message_en="The document is too large (64 KB at most).")
        try:
            data = yaml.safe_load(raw.decode("utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as err:
            raise InvalidParameterError(
                f"Tài liệu không phải YAML/JSON hợp lệ: {err}".split("\n")[0],
                message_en=f"The document is not valid YAML or JSON: {err}".split("\n")[0]) from None
    else:
        data = body
    if not isinstance(data, dict):
        raise ValidationError("Tài liệu phải là một đối tượng (id, title, indicators, …).",
                              message_en="The document must be a mapping (id, title, indicators, …).")
    try:
        doc = ThematicDocument.model_validate(data)
    except PydanticValidationError as err:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in err.errors())
        raise ValidationError(f"Tài liệu kịch bản không hợp lệ: {problems}",
                              message_en=f"The scenario document is invalid: {problems}") from None
    return doc


def store(cursor: Any, doc: ThematicDocument, actor: str) -> None:
    """Insert or replace a document (in the caller's transaction)."""
    cursor.execute(
        "INSERT INTO thematic_scenarios (id, document, created_by) VALUES (%s, %s, %s) "
        "ON CONFLICT (id) DO UPDATE SET document = EXCLUDED.document, updated_at = now()",
        (doc.id, json.dumps(doc.model_dump(mode="json"), ensure_ascii=False), actor))


def load(cursor: Any, scenario_id: str) -> ThematicDocument | None:
    """The stored document ``scenario_id``, or None."""
    cursor.execute("SELECT document FROM thematic_scenarios WHERE id = %s", (scenario_id,))
    row = cursor.fetchone()
    return None if row is None else ThematicDocument.model_validate(row[0])


def stored(cursor: Any) -> list[ThematicDocument]:
    """Every stored document."""
    cursor.execute("SELECT document FROM thematic_scenarios ORDER BY id")
    return [ThematicDocument.model_validate(r[0]) for r in cursor.fetchall()]


def run_document(cursor: Any, doc: ThematicDocument, params: ThematicRunParams | None = None
                 ) -> Outcome:
    """Run ``doc``, with any field of ``params`` replacing the document's."""
    given = params.model_dump(exclude_none=True, exclude_unset=True) if params else {}
    run = RunParams.model_validate({
        "selection": doc.selection.model_dump(), "group_by": doc.group_by, "period": doc.period,
        "at_risk_margin": doc.at_risk_margin, **{k: v for k, v in given.items()}})
    indicators = tuple(require_indicator(i) for i in doc.indicators)
    meta = {"scenario": doc.id, "title": doc.titles(), "instruction": doc.instruction}
    return run_indicators(cursor, indicators, run, thresholds=doc.thresholds,
                          threshold_basis=doc.instruction or f"Kịch bản chuyên đề {doc.id}", meta=meta)


def scenario_for(doc: ThematicDocument) -> Scenario:
    """A stored document as a runnable scenario."""
    return Scenario(doc.id, doc.titles(), {"vi": doc.description or doc.titles()["vi"],
                                           "en": doc.description or doc.titles()["en"]},
                    "Điều 9c", "thematic", ThematicRunParams,
                    lambda cursor, p: run_document(cursor, doc, p))


INLINE = Scenario(
    "thematic",
    {"vi": "Kịch bản chuyên đề (tài liệu)", "en": "Thematic scenario (document)"},
    {"vi": "Chạy một kịch bản chuyên đề mô tả bằng tài liệu YAML/JSON mà không lưu; lưu tài liệu "
           "qua POST /api/v1/scenarios/thematic để chạy theo mã.",
     "en": "Run a thematic scenario described by a YAML/JSON document without storing it; store "
           "documents with POST /api/v1/scenarios/thematic to run them by id."},
    "Điều 9c", "thematic", InlineThematicParams,
    lambda cursor, p: run_document(cursor, p.document),
)

