"""OGC API – Tiles Part 1 metadata of the vector tiles: tile matrix set, tilesets and links.

Everything here is derived from the tile grid of ``tiles.mvt`` (Web Mercator, zoom 0 to
``MAX_ZOOM``) and from each layer's ``TileSpec``: the WebMercatorQuad definition in the JSON
encoding of OGC Two Dimensional Tile Matrix Set 2.0, one tileset per layer (``/collections/{id}
/tiles``) and one for the dataset (``/tiles``, every layer from its minimum zoom), each with its
``tileMatrixSetLimits`` over the province.
"""

from __future__ import annotations

import math
from typing import Any

from gis_core.crs import CRS84_URI
from layers.ogc import PROVINCE_BBOX
from layers.spec import LayerSpec
from tiles.mvt import MAX_ZOOM, WORLD

TMS_ID = "WebMercatorQuad"
TMS_URI = f"http://www.opengis.net/def/tilematrixset/OGC/1.0/{TMS_ID}"
TMS_CRS = "http://www.opengis.net/def/crs/EPSG/0/3857"
JSON = "application/json"
MVT = "application/vnd.mapbox-vector-tile"
REL = "http://www.opengis.net/def/rel/ogc/1.0/"
TILE_SIZE = 256  # pixels of the tile grid (the MVT's own extent is finer: tiles.mvt.EXTENT)
# The OGC standard pixel: 0.28 mm (scale denominator = cell size / 0.28e-3).
_PIXEL_M = 0.28e-3
_CONF = "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/"
TILES_CONFORMANCE = [f"{_CONF}{c}" for c in (
    "core", "tileset", "tilesets-list", "geodata-tilesets", "dataset-tilesets",
    "collections-selection", "mvt")]
_GEOMETRY_DIMENSION = {"Point": 0, "MultiLineString": 1, "MultiPolygon": 2}


def tile_matrix_set() -> dict[str, Any]:
    """The WebMercatorQuad tile matrix set (TMS 2.0 JSON), zoom 0 to ``MAX_ZOOM``."""
    origin = WORLD / 2
    matrices = []
    for z in range(MAX_ZOOM + 1):
        cell = WORLD / TILE_SIZE / 2**z
        matrices.append({
            "id": str(z), "scaleDenominator": cell / _PIXEL_M, "cellSize": cell,
            "cornerOfOrigin": "topLeft", "pointOfOrigin": [-origin, origin],
            "tileWidth": TILE_SIZE, "tileHeight": TILE_SIZE,
            "matrixWidth": 2**z, "matrixHeight": 2**z,
        })
    return {
        "id": TMS_ID, "title": "Google Maps Compatible for the World", "uri": TMS_URI,
        "crs": TMS_CRS, "orderedAxes": ["X", "Y"],
        "wellKnownScaleSet": "http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible",
        "tileMatrices": matrices,
    }


def tile_matrix_sets(base: str) -> dict[str, Any]:
    """The list of tile matrix sets (one)."""
    return {"tileMatrixSets": [{
        "id": TMS_ID, "title": "Google Maps Compatible for the World", "uri": TMS_URI,
        "links": [{"rel": "self", "type": JSON, "href": f"{base}/tileMatrixSets/{TMS_ID}",
                   "title": TMS_ID}],
    }], "links": [{"rel": "self", "type": JSON, "href": f"{base}/tileMatrixSets"}]}


def _column(lon: float, z: int) -> int:
    return min(2**z - 1, max(0, int((lon + 180) / 360 * 2**z)))


def _row(lat: float, z: int) -> int:
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2
    return min(2**z - 1, max(0, int(y * 2**z)))


def tile_matrix_limits(minzoom: int, maxzoom: int,
                       bbox: list[float] = PROVINCE_BBOX) -> list[dict[str, Any]]:
    """For each zoom, the rows and columns of the tiles that cover ``bbox`` (CRS84)."""
    west, south, east, north = bbox
    return [{"tileMatrix": str(z), "minTileRow": _row(north, z), "maxTileRow": _row(south, z),
             "minTileCol": _column(west, z), "maxTileCol": _column(east, z)}
            for z in range(minzoom, maxzoom + 1)]


def _zooms(layer: LayerSpec) -> tuple[int, int]:
    return layer.tiles.minzoom, min(layer.tiles.maxzoom, MAX_ZOOM)


def _layer(base: str, layer: LayerSpec) -> dict[str, Any]:
    low, high = _zooms(layer)
    return {
        "id": layer.id, "title": layer.title["vi"], "description": layer.description["vi"],
        "dataType": "vector", "geometryDimension": _GEOMETRY_DIMENSION[layer.geometry],
        "minTileMatrix": str(low), "maxTileMatrix": str(high),
        "propertiesSchema": {"type": "object", "properties": {
            name: {"title": layer.field(name).title.get("vi", name)}
            for name in layer.tiles.properties}},
        "links": [{"rel": "collection", "type": JSON, "href": f"{base}/collections/{layer.id}",
                   "title": layer.title["vi"]}],
    }


def _links(base: str, path: str) -> list[dict[str, Any]]:
    return [
        {"rel": "self", "type": JSON, "href": f"{base}{path}/{TMS_ID}",
         "title": "Siêu dữ liệu tập ô / tileset metadata"},
        {"rel": f"{REL}tiling-scheme", "type": JSON, "href": f"{base}/tileMatrixSets/{TMS_ID}",
         "title": TMS_ID},
    ]


def tileset(base: str, layers: list[LayerSpec], path: str, title: str) -> dict[str, Any]:
    """Metadata of the vector tileset at ``{base}{path}/WebMercatorQuad`` drawn from ``layers``."""
    low = min(_zooms(layer)[0] for layer in layers)
    high = max(_zooms(layer)[1] for layer in layers)
    west, south, east, north = PROVINCE_BBOX
    return {
        "title": title, "dataType": "vector", "crs": TMS_CRS, "tileMatrixSetURI": TMS_URI,
        "links": [*_links(base, path),
                  {"rel": "item", "type": MVT, "templated": True,
                   "href": f"{base}{path}/{TMS_ID}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}",
                   "title": "Ô vector / vector tile (Mapbox Vector Tile)"}],
        "tileMatrixSetLimits": tile_matrix_limits(low, high),
        "boundingBox": {"lowerLeft": [west, south], "upperRight": [east, north],
                        "crs": CRS84_URI},
        "layers": [_layer(base, layer) for layer in layers],
    }


def tilesets(base: str, path: str, title: str) -> dict[str, Any]:
    """The tilesets list at ``{base}{path}`` (one: vector tiles in WebMercatorQuad)."""
    return {
        "tilesets": [{"title": title, "dataType": "vector", "crs": TMS_CRS,
                      "tileMatrixSetURI": TMS_URI, "links": _links(base, path)}],
        "links": [{"rel": "self", "type": JSON, "href": f"{base}{path}"}],
    }


def tilesets_link(base: str, path: str) -> dict[str, Any]:
    """The link to the vector tilesets at ``{base}{path}`` (for a collection or the landing page)."""
    return {"rel": f"{REL}tilesets-vector", "type": JSON, "href": f"{base}{path}",
            "title": "Ô vector / vector tiles"}
