"""Layer declaration → pygeoapi resource definition (a plain dict; no pygeoapi import)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gis_core.crs import CRS84_URI, supported_uris
from layers.departments import DEPARTMENTS
from layers.spec import GROUP_TITLES, LayerSpec

# The province's bounding box, for empty layers.
PROVINCE_BBOX = [102.33, 21.67, 103.99, 22.84]


def resource_for(
    layer: LayerSpec, database_url: str, provider: str, *, bbox: list[float] | None = None,
    interval: list[datetime | None] | None = None, links: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The pygeoapi ``resources`` entry of one layer, served by the ``provider`` class (dotted
    path).

    The temporal extent stays as ``datetime`` values: pygeoapi compares its HTML pages'
    ``datetime`` parameter with them and refuses strings.
    """
    owner = DEPARTMENTS.get(layer.owner, {"vi": layer.owner, "en": layer.owner})
    group = GROUP_TITLES[layer.group]
    extents: dict[str, Any] = {"spatial": {"bbox": bbox or PROVINCE_BBOX, "crs": CRS84_URI}}
    if interval and interval[0]:
        extents["temporal"] = {"begin": interval[0], "end": interval[1]}
    return {
        "type": "collection",
        "title": dict(layer.title),
        "description": {
            "vi": f"{layer.description['vi']} Đơn vị quản lý: {owner['vi']}.",
            "en": f"{layer.description['en']} Owner: {owner['en']}.",
        },
        "keywords": {"vi": [group["vi"], owner["vi"]], "en": [group["en"], owner["en"]]},
        "links": links or [],
        "extents": extents,
        "providers": [{
            "type": "feature",
            "name": provider,
            "data": {"url": database_url},
            "table": layer.id,
            "id_field": "id",
            "geom_field": "geom",
            "title_field": layer.title_field,
            "time_field": layer.time_field,
            "storage_crs": CRS84_URI,
            "crs": supported_uris(),
        }],
    }
