"""``/api/v1/layers``: the registry as seen by clients, with feature counts."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from psycopg2 import sql

from gis_core.db import raw_cursor
from layers import fields
from layers.departments import DEPARTMENTS
from layers.registry import LAYERS, require_layer
from layers.spec import LayerSpec
from layers.summary import commune_summary

router = APIRouter(prefix="/api/v1", tags=["layers"])


def describe(layer: LayerSpec, count: int | None = None) -> dict[str, Any]:
    """Public description of a layer: titles, group, owner, public fields, freshness rule."""
    return {
        "id": layer.id,
        "title": layer.title,
        "description": layer.description,
        "group": layer.group,
        "owner": {"code": layer.owner, **DEPARTMENTS.get(layer.owner, {})},
        "geometry": layer.geometry,
        "update_every": layer.update_every,
        "features": count,
        "fields": [fields.describe(f) for f in layer.public_fields],
        "links": {"ogc": f"/ogc/collections/{layer.id}"},
    }


def _counts(request: Request) -> dict[str, int]:
    statement = sql.SQL(" UNION ALL ").join(
        sql.SQL("SELECT {}, count(*) FROM {}").format(sql.Literal(layer.id),
                                                      sql.Identifier(layer.id))
        for layer in LAYERS
    )
    with raw_cursor(request.app.state.engine) as cursor:
        cursor.execute(statement)
        return dict(cursor.fetchall())


@router.get("/layers", summary="Danh sách lớp dữ liệu / List of layers")
def list_layers(request: Request) -> list[dict[str, Any]]:
    """Every layer of the registry with its public fields and feature count."""
    counts = _counts(request)
    return [describe(layer, counts.get(layer.id)) for layer in LAYERS]


@router.get("/layers/{layer_id}", summary="Một lớp dữ liệu / One layer")
def get_layer_description(layer_id: str, request: Request) -> dict[str, Any]:
    """One layer of the registry."""
    layer = require_layer(layer_id)
    return describe(layer, _counts(request).get(layer.id))


@router.get("/layers/{layer_id}/summary",
            summary="Số liệu tổng hợp theo xã / Counts per commune")
def layer_summary(layer_id: str, request: Request) -> dict[str, Any]:
    """Counts per commune, by each public coded field; public even for layers about people."""
    layer = require_layer(layer_id)
    with raw_cursor(request.app.state.engine) as cursor:
        return commune_summary(cursor, layer)
