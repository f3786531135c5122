"""The explicit, ordered registry of layers."""

from __future__ import annotations

from gis_core.errors import NotFoundError
from layers.catalog import (
    communes,
    construction_permits,
    feedback_points,
    health_facilities,
    housing,
    iot_stations,
    land_parcels,
    opinion_points,
    planning_zones,
    power_lines,
    province,
    roads,
    schools,
    stations,
    trees,
    water_network,
)
from layers.spec import LayerSpec

LAYERS: tuple[LayerSpec, ...] = (
    province.LAYER,
    communes.LAYER,
    planning_zones.LAYER,
    land_parcels.LAYER,
    construction_permits.LAYER,
    housing.LAYER,
    roads.LAYER,
    power_lines.LAYER,
    water_network.LAYER,
    schools.LAYER,
    health_facilities.LAYER,
    trees.LAYER,
    stations.LAYER,
    iot_stations.LAYER,
)
# Views over a domain's tables (``LayerSpec.derived``): read like the layers above, not stored.
DERIVED: tuple[LayerSpec, ...] = (feedback_points.LAYER, opinion_points.LAYER)
PUBLISHED: tuple[LayerSpec, ...] = LAYERS + DERIVED
_BY_ID = {layer.id: layer for layer in PUBLISHED}


def get_layer(layer_id: str) -> LayerSpec | None:
    """The layer called ``layer_id``, or None."""
    return _BY_ID.get(layer_id)


def require_layer(layer_id: str) -> LayerSpec:
    """The layer called ``layer_id``; a 404 domain error when there is none."""
    layer = _BY_ID.get(layer_id)
    if layer is None:
        raise NotFoundError(f"Không có lớp dữ liệu (collection) '{layer_id}'.",
                            message_en=f"There is no layer (collection) '{layer_id}'.")
    return layer
