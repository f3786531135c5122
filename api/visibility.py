"""Which fields of a layer the caller of a request may see, and the audit of personal reads."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import Request

from api.auth import current_principal
from layers import audit
from layers.access import personal_names, visible_specs
from layers.spec import FieldSpec, LayerSpec


def visible_fields(request: Request, layer: LayerSpec) -> tuple[FieldSpec, ...]:
    """The layer's fields this caller may read (the access policy in ``layers.access``)."""
    return visible_specs(current_principal(request), layer)


def audit_personal_read(request: Request, layer: LayerSpec, fields: Iterable[str], count: int,
                        via: str, ids: list[Any] | None = None) -> None:
    """Record a read that handed out personal fields (nothing when none were), with the
    features' ids when the caller knows them."""
    personal = sorted(personal_names(layer) & set(fields))
    if personal and count:
        details: dict[str, Any] = {"fields": personal, "count": count, "via": via,
                                   "query": str(request.url.query)}
        if ids is not None:
            details["features"] = ids[:1000]
        audit.record_now(request.app.state.engine, "read.personal",
                         actor=current_principal(request), target=layer.id, details=details)
