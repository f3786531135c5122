"""Vector tiles: OGC API - Tiles under ``/ogc`` and plain XYZ with TileJSON under ``/tiles``."""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from api.auth import current_principal
from gis_core.db import raw_cursor
from layers.access import may_see_features, require_features
from layers.ogc import PROVINCE_BBOX
from layers.registry import require_layer
from layers.spec import LayerSpec
from tiles.cache import RenderedTile, TileCache
from tiles.mvt import MAX_ZOOM, Tile, layer_version, render_tile

MVT = "application/vnd.mapbox-vector-tile"
TMS = "WebMercatorQuad"
# Browsers keep tiles but ask again each time (a 304 while the ETag holds): an edit shows at once.
CACHE_CONTROL = "public, no-cache"
router = APIRouter(tags=["tiles"])


def _tiles(request: Request, layers: list[LayerSpec], tile: Tile) -> tuple[list[RenderedTile], str]:
    """Each layer's tile, from the cache unless a change touched it since it was drawn."""
    cache: TileCache = request.app.state.tile_cache
    tiles = []
    with raw_cursor(request.app.state.engine) as cursor:
        for layer in layers:
            version = layer_version(cursor, layer.id)
            cache.sync(cursor, layer.id, version)
            key = (layer.id, tile.z, tile.x, tile.y)
            rendered = cache.get(key) if version is not None else None
            if rendered is None:
                rendered = render_tile(cursor, layer, tile)
                if version is not None:
                    cache.put(key, rendered, version)
            tiles.append(rendered)
    etag = tiles[0].etag if len(tiles) == 1 else hashlib.blake2b(
        "".join(t.etag for t in tiles).encode(), digest_size=10).hexdigest()
    return tiles, f'"{etag}"'


async def _respond(request: Request, layer_ids: str, z: int, x: int, y: int) -> Response:
    layers = [require_layer(layer_id) for layer_id in dict.fromkeys(layer_ids.split(","))]
    tile = Tile(z, x, y)
    principal = current_principal(request)
    if len(layers) == 1:
        # Points of a layer about people (households, permit applicants) need a signed-in caller,
        # as its items do; the public has its counts per commune.
        require_features(principal, layers[0])
    else:  # a combined tile, for a map: each layer from its minimum zoom on, those the caller may see
        layers = [layer for layer in layers
                  if layer.tiles.minzoom <= tile.z and may_see_features(principal, layer)]
        if not layers:
            return Response(status_code=204, headers={"Cache-Control": CACHE_CONTROL})
    rendered, etag = await run_in_threadpool(_tiles, request, layers, tile)
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    if any(t.clustered for t in rendered):
        headers["X-Tile-Clustered"] = "true"
    if any(t.capped for t in rendered):
        headers["X-Tile-Capped"] = "true"
    if etag in request.headers.get("if-none-match", "").replace("W/", "").split(", "):
        return Response(status_code=304, headers=headers)
    # Encoded MVT layers concatenate into one valid tile (a tile is a repeated layer field).
    data = b"".join(t.data for t in rendered)
    if not data:
        return Response(status_code=204, headers=headers)
    return Response(data, media_type=MVT, headers=headers)


@router.get("/tiles/{layer_ids}/{z}/{x}/{y}.mvt", summary="Ô vector (XYZ) / vector tile (XYZ)")
async def xyz_tile(request: Request, layer_ids: str, z: int, x: int, y: int) -> Response:
    """One vector tile in the XYZ scheme; several layers comma-separated give one combined tile."""
    return await _respond(request, layer_ids, z, x, y)


@router.get("/ogc/collections/{layer_id}/tiles/WebMercatorQuad/{z}/{row}/{col}",
            summary="Ô vector OGC API - Tiles / OGC API - Tiles vector tile")
async def ogc_tile(request: Request, layer_id: str, z: int, row: int, col: int) -> Response:
    """One vector tile addressed as tileMatrix/tileRow/tileCol; 204 when empty."""
    return await _respond(request, layer_id, z, col, row)


@router.get("/tiles/{layer_id}.json", summary="TileJSON")
def tilejson(request: Request, layer_id: str) -> dict[str, Any]:
    """TileJSON 3.0 of a layer, for MapLibre, QGIS and other vector-tile clients."""
    layer = require_layer(layer_id)
    base = request.app.state.settings.base_url
    return {
        "tilejson": "3.0.0",
        "name": layer.title["vi"],
        "description": layer.description["vi"],
        "attribution": "Lai Châu IOC",
        "tiles": [f"{base}/tiles/{layer.id}/{{z}}/{{x}}/{{y}}.mvt"],
        "minzoom": layer.tiles.minzoom,
        "maxzoom": min(layer.tiles.maxzoom, MAX_ZOOM),
        "bounds": PROVINCE_BBOX,
        "center": [103.2, 22.3, 9],
        "vector_layers": [{
            "id": layer.id,
            "fields": {name: layer.field(name).title.get("vi", name)
                       for name in layer.tiles.properties},
            "minzoom": layer.tiles.minzoom,
            "maxzoom": min(layer.tiles.maxzoom, MAX_ZOOM),
        }],
    }


@router.get("/ogc/collections/{layer_id}/tiles", summary="Tập ô của lớp / tilesets")
def tilesets(request: Request, layer_id: str) -> dict[str, Any]:
    """The layer's tilesets (one: vector tiles in WebMercatorQuad)."""
    return {"tilesets": [_tileset(request, require_layer(layer_id))]}


@router.get("/ogc/collections/{layer_id}/tiles/WebMercatorQuad", summary="Tập ô / tileset")
def tileset(request: Request, layer_id: str) -> dict[str, Any]:
    """Metadata of the layer's WebMercatorQuad vector tileset."""
    return _tileset(request, require_layer(layer_id))


def _tileset(request: Request, layer: LayerSpec) -> dict[str, Any]:
    base = f"{request.app.state.settings.base_url}/ogc"
    return {
        "title": layer.title["vi"],
        "dataType": "vector",
        "crs": "http://www.opengis.net/def/crs/EPSG/0/3857",
        "tileMatrixSetURI": "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad",
        "links": [
            {"rel": "self", "type": "application/json",
             "href": f"{base}/collections/{layer.id}/tiles/{TMS}"},
            {"rel": "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme",
             "type": "application/json", "href": f"{base}/TileMatrixSets/{TMS}"},
            {"rel": "item", "type": MVT, "templated": True,
             "href": f"{base}/collections/{layer.id}/tiles/{TMS}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}"},
        ],
        "layers": [{"id": layer.id, "geometryType": layer.geometry.lower().replace("multi", ""),
                    "minZoom": layer.tiles.minzoom, "maxZoom": min(layer.tiles.maxzoom, MAX_ZOOM),
                    "propertiesSchema": {"type": "object", "properties": {
                        name: {"title": layer.field(name).title.get("vi", name)}
                        for name in layer.tiles.properties}}}],
    }
