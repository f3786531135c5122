"""Which fields of a layer the caller of a request may see, the one rule for asking for others,
and the audit of personal reads."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from sqlalchemy.engine import Engine

from api.auth import current_principal
from gis_core.errors import PermissionDeniedError
from governance import audit
from governance.access import Principal, filter_attributes, personal_names, visible_specs
from layers.cql import parse_filter
from layers.spec import FieldSpec, LayerSpec


def visible_fields(request: Request, layer: LayerSpec) -> tuple[FieldSpec, ...]:
    """The layer's fields this caller may read (the access policy in ``governance.access``)."""
    return visible_specs(current_principal(request), layer)


def names_asked(params: Any) -> set[str]:
    """Every field name a request's parameters refer to: as a parameter of its own, in
    ``properties``, ``sortby`` or ``filter``."""
    names = set(params.keys())
    for key in ("properties", "sortby"):
        names.update(n.strip().lstrip("+-") for n in params.get(key, "").split(",") if n.strip())
    if "filter" in params:
        names.update(filter_attributes(parse_filter(params["filter"], params.get("filter-lang"))))
    return names


def hidden_fields_asked(names: Iterable[str], layer: LayerSpec,
                        visible: tuple[FieldSpec, ...]) -> list[str]:
    """The fields of the layer among ``names`` that are not in ``visible``."""
    hidden = {f.name for f in layer.fields} - {f.name for f in visible}
    return sorted(hidden & set(names))


def refuse_hidden_fields(engine: Engine, principal: Principal, layer: LayerSpec,
                         names: Iterable[str], query: str) -> None:
    """403, audited as ``read.denied``, when a request names a field the caller may not read.

    The one rule of every output path: items (GeoJSON and HTML), a single feature, queryables,
    the collection pages and exports. It runs before any of them reads a row.
    """
    hidden = hidden_fields_asked(names, layer, visible_specs(principal, layer))
    if not hidden:
        return
    audit.record_now(engine, "read.denied", actor=principal, outcome="denied", target=layer.id,
                     details={"fields": hidden, "query": query})
    raise PermissionDeniedError(
        f"Không có quyền đọc trường: {', '.join(hidden)} (dữ liệu cá nhân hoặc nội bộ).",
        message_en=f"Not allowed to read field(s): {', '.join(hidden)} (personal or internal).",
        parameter=hidden[0])


def refuse_hidden_parameters(engine: Engine, principal: Principal, layer: LayerSpec,
                             params: Any) -> None:
    """``refuse_hidden_fields`` for the names in a request's query parameters."""
    refuse_hidden_fields(engine, principal, layer, names_asked(params),
                         urlencode(list(params.multi_items())))


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
