"""Which fields of a layer the caller of a request may see, the one refusal of a request for
others, and the one audit of personal reads: every path that reads features calls these."""

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


def names_asked(pairs: Iterable[tuple[str, str]]) -> set[str]:
    """Every field name a request's parameters (name, value pairs) refer to: as a parameter of
    its own, in ``properties``, ``sortby`` or ``filter``."""
    params = dict(pairs)
    names = set(params)
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
                         names: Iterable[str], query: str, *, parameter: str | None = None) -> None:
    """403, audited as ``read.denied``, when a request names a field the caller may not read.

    The one rule of every output path: items (GeoJSON and HTML), a single feature, queryables,
    the collection pages, exports and quality listings. It runs before any of them reads a row.
    ``parameter`` names the request parameter at fault when it is not the field itself (a
    quality rule judging the field).
    """
    hidden = hidden_fields_asked(names, layer, visible_specs(principal, layer))
    if not hidden:
        return
    audit.record_now(engine, "read.denied", actor=principal, outcome="denied", target=layer.id,
                     details={"fields": hidden, "query": query})
    raise PermissionDeniedError(
        f"Không có quyền đọc trường: {', '.join(hidden)} (dữ liệu cá nhân hoặc nội bộ).",
        f"Not allowed to read field(s): {', '.join(hidden)} (personal or internal).",
        parameter or hidden[0])


def refuse_hidden_parameters(engine: Engine, principal: Principal, layer: LayerSpec,
                             pairs: Iterable[tuple[str, str]]) -> None:
    """``refuse_hidden_fields`` for the names in a request's query parameters."""
    pairs = list(pairs)
    refuse_hidden_fields(engine, principal, layer, names_asked(pairs), urlencode(pairs))


def audit_personal_read(engine: Engine, principal: Principal, layer: LayerSpec,
                        fields: Iterable[str], count: int, *, via: str, query: str | None,
                        ids: list[Any] | None = None) -> None:
    """Record a read that handed ``count`` features' personal fields out (nothing when it
    handed out none): ``read.personal`` with the personal fields, the count, the path (``via``),
    the request's query and, when the path knows them, the features' ids (the first 1000)."""
    personal = sorted(personal_names(layer) & set(fields))
    if not (personal and count):
        return
    details: dict[str, Any] = {"fields": personal, "count": count, "via": via, "query": query}
    if ids is not None:
        details["features"] = ids[:1000]
    audit.record_now(engine, "read.personal", actor=principal, target=layer.id, details=details)
