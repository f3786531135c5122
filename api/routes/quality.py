"""``/api/v1/quality``: correct, complete, clean, live — per layer, commune and department."""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BeforeValidator
from starlette.concurrency import run_in_threadpool

from api.auth import current_principal
from api.visibility import audit_personal_read, refuse_hidden_fields, visible_fields
from gis_core.db import raw_cursor
from gis_core.errors import InvalidParameterError, invalid_parameter
from governance.access import require_features
from layers.quality import (
    available_rules,
    failing_records,
    layer_quality,
    province_quality,
    rule_field,
)
from layers.registry import LAYERS, require_layer

router = APIRouter(prefix="/api/v1", tags=["quality"])
_MAX_LIMIT = 1000
_MAX_OFFSET = 2**31 - 1
# A report is reused while no layer's data version has moved and it is younger than this
# (liveness changes with the clock alone, slowly).
CACHE_SECONDS = 300.0
_COMMUNE = re.compile(r"[0-9A-Za-z_-]{1,20}")


def _cached(request: Request, key: tuple[str, ...], compute: Callable[[Any], dict[str, Any]]
            ) -> dict[str, Any]:
    """``compute(cursor)``, or the same report again while the data has not changed."""
    cache: dict[tuple[str, ...], tuple[Any, float, dict[str, Any]]] | None = getattr(
        request.app.state, "quality_cache", None)
    if cache is None:
        cache = request.app.state.quality_cache = {}
    with raw_cursor(request.app.state.engine) as cursor:
        cursor.execute("SELECT layer, version FROM feature_counts ORDER BY layer")
        versions = cursor.fetchall()
        hit = cache.get(key)
        if hit is not None and hit[0] == versions and time.monotonic() - hit[1] < CACHE_SECONDS:
            return hit[2]
        report = compute(cursor)
    cache[key] = (versions, time.monotonic(), report)
    return report


def _bounded(name: str, minimum: int, maximum: int) -> BeforeValidator:
    """An integer parameter from ``minimum`` to ``maximum``; the 400 naming it otherwise."""
    def check(raw: Any) -> int:
        text = str(raw)
        if not text.isdigit() or not minimum <= int(text) <= maximum:
            raise invalid_parameter(name, f"Cần số nguyên từ {minimum} đến {maximum}.",
                                    f"An integer from {minimum} to {maximum} is required.", value=text)
        return int(text)
    return BeforeValidator(check)


def _one_of(name: str, choices: tuple[str, ...]) -> BeforeValidator:
    """One of ``choices``; the 400 naming the parameter otherwise."""
    def check(raw: Any) -> str:
        if raw not in choices:
            words = " hoặc ".join(f"'{c}'" for c in choices), " or ".join(f"'{c}'" for c in choices)
            raise invalid_parameter(name, f"Dùng {words[0]}.", f"Use {words[1]}.", value=str(raw))
        return raw
    return BeforeValidator(check)


def _commune(raw: Any) -> str:
    if not _COMMUNE.fullmatch(str(raw)):
        raise InvalidParameterError(
            "Tham số 'commune' không hợp lệ: cần mã xã gồm chữ số, ví dụ 03388.",
            "Parameter 'commune' is invalid: give a commune code of digits, e.g. 03388.", "commune")
    return str(raw)


# Declared for /openapi.json; the checks answer the platform's 400 naming the parameter.
By = Annotated[Literal["commune", "department"], _one_of("by", ("commune", "department")),
               Query(description="commune: evidence by commune; department: with the owning "
                     "department's layers taken together")]
Rule = Annotated[str | None, Query(description="A rule of the layer (its report lists them), "
                                   "e.g. domain:poverty_status")]
Limit = Annotated[int, _bounded("limit", 1, _MAX_LIMIT), Query(ge=1, le=_MAX_LIMIT)]
Offset = Annotated[int, _bounded("offset", 0, _MAX_OFFSET), Query(ge=0, le=_MAX_OFFSET)]
Commune = Annotated[str | None, BeforeValidator(_commune),
                    Query(pattern=_COMMUNE.pattern, description="A commune code, e.g. 03388")]


@router.get("/quality", summary="Chất lượng dữ liệu toàn tỉnh / Data quality of every layer")
async def quality(request: Request) -> dict[str, Any]:
    """Every layer (scores 0–1 per measure, counts, stale), every department and commune."""
    return await run_in_threadpool(
        _cached, request, ("province",), lambda cursor: province_quality(cursor).as_dict())


@router.get("/quality/{layer_id}", summary="Chất lượng một lớp / Data quality of one layer")
async def layer_quality_report(layer_id: str, request: Request, by: By = "commune") -> dict[str, Any]:
    """One layer with its evidence by rule and by commune (``by=commune``, default) or with its
    owning department's layers taken together (``by=department``)."""
    layer = require_layer(layer_id)

    def compute(cursor: Any) -> dict[str, Any]:
        if by == "commune":
            return layer_quality(cursor, layer).as_dict(detail=True)
        own = tuple(other for other in LAYERS if other.owner == layer.owner)
        report = province_quality(cursor, own)
        mine = next(r for r in report.layers if r.layer == layer.id)
        return {**mine.as_dict(), "department_quality": report.as_dict()["departments"][0]}

    return await run_in_threadpool(_cached, request, ("layer", layer.id, by), compute)


@router.get("/quality/{layer_id}/failures",
            summary="Các bản ghi không đạt một quy tắc / Records failing a rule")
async def failures(layer_id: str, request: Request, rule: Rule = None, limit: Limit = 100,
                   offset: Offset = 0, commune: Commune = None) -> dict[str, Any]:
    """Records failing ``rule``, optionally in one ``commune``: ids and the fields the caller may
    read (the access policy); a read that shows personal fields is audited."""
    layer = require_layer(layer_id)
    principal = await run_in_threadpool(current_principal, request)
    require_features(principal, layer)
    rules = available_rules(layer)
    if rule not in rules:
        raise InvalidParameterError(
            f"Tham số 'rule' không hợp lệ: '{rule}'. Các quy tắc của lớp '{layer.id}': "
            f"{', '.join(rules)}.",
            message_en=f"Parameter 'rule' is invalid: '{rule}'. The rules of layer '{layer.id}': "
            f"{', '.join(rules)}.", parameter="rule")
    visible = visible_fields(request, layer)
    judged = rule_field(layer, rule)
    # Listing who fails a rule on a field is a filter on that field: the same 403 as items.
    await run_in_threadpool(
        functools.partial(refuse_hidden_fields, request.app.state.engine, principal, layer,
                          [judged] if judged else [], str(request.url.query), parameter="rule"))

    def work() -> dict[str, Any] | None:
        with raw_cursor(request.app.state.engine) as cursor:
            found = failing_records(cursor, layer, rule, commune=commune, limit=limit,
                                    offset=offset, visible=visible)
        if found is not None and not rule.startswith("coverage:"):
            records = found["records"]
            audit_personal_read(request.app.state.engine, principal, layer, [f.name for f in visible],
                                len(records), via="quality", query=str(request.url.query),
                                ids=[r["id"] for r in records])
        return found

    result = await run_in_threadpool(work)
    assert result is not None  # the rule was checked above
    return {"layer": layer.id, **result}
