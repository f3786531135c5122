"""Which fields of a layer a caller may see: the hook an authorization policy plugs into."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request

from layers.spec import FieldSpec, LayerSpec

FieldPolicy = Callable[[Request, LayerSpec], tuple[FieldSpec, ...]]


def visible_fields(request: Request, layer: LayerSpec) -> tuple[FieldSpec, ...]:
    """The fields this caller may see: the public ones, unless an authorization policy says more.

    A policy is a callable ``(request, layer) -> fields`` set as ``app.state.field_policy``;
    whatever it returns is limited to the layer's own fields.
    """
    policy: FieldPolicy | None = getattr(request.app.state, "field_policy", None)
    if policy is None:
        return layer.public_fields
    return tuple(f for f in policy(request, layer) if f in layer.fields)
