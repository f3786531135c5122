"""Vector tiles: OGC API - Tiles under ``/ogc`` and plain XYZ with TileJSON under ``/tiles``."""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from api.auth import current_principal
from gis_core.db import raw_cursor
from gis_core.errors import NotFoundError
from governance.access import may_see_features, require_features
from layers.ogc import PROVINCE_BBOX
from layers.registry import PUBLISHED, require_layer
from layers.spec import LayerSpec
from tiles import ogc as ogc_tiles
from tiles.cache import RenderedTile, TileCache
from tiles.mvt import MAX_ZOOM, Tile, layer_version, render_tile
from tiles.versions import LayerVersions

MVT = ogc_tiles.MVT
TMS = ogc_tiles.TMS_ID
DATASET_TITLE = "Lai Châu IOC — các lớp dữ liệu / all layers"
# Browsers keep tiles but ask again each time (a 304 while the ETag holds): an edit shows at once.
CACHE_CONTROL = "public, no-cache"
router = APIRouter(tags=["tiles"])


def _cached(request: Request, layers: list[LayerSpec], tile: Tile) -> list[RenderedTile] | None:
    """Each layer's cached tile when the cache has applied every version heard, without asking
    the database; None when one is missing or its layer moved on (then ``_tiles`` asks)."""
    cache: TileCache = request.app.state.tile_cache
    versions: LayerVersions | None = getattr(request.app.state, "layer_versions", None)
    if versions is None or not cache.local:
        return None
    tiles = []
    for layer in layers:
        heard = versions.version(layer.id)
        rendered = cache.get((layer.id, tile.z, tile.x, tile.y)) \
            if heard is not None and cache.known(layer.id) == heard else None
        if rendered is None:
            return None
        tiles.append(rendered)
    return tiles


def _etag(tiles: list[RenderedTile]) -> str:
    etag = tiles[0].etag if len(tiles) == 1 else hashlib.blake2b(
        "".join(t.etag for t in tiles).encode(), digest_size=10).hexdigest()
    return f'"{etag}"'


def _tiles(request: Request, layers: list[LayerSpec], tile: Tile) -> list[RenderedTile]:
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
    return tiles


async def _respond(request: Request, layer_ids: str, z: int, x: int, y: int, *,
                   combined: bool = False) -> Response:
    layers = [require_layer(layer_id) for layer_id in dict.fromkeys(layer_ids.split(","))]
    tile = Tile(z, x, y)
    principal = current_principal(request)
    if len(layers) == 1 and not combined:
        # Points of a layer about people (households, permit applicants) need a signed-in caller,
        # as its items do; the public has its counts per commune.
        require_features(principal, layers[0])
    else:  # a combined tile, for a map: each layer from its minimum zoom on, those the caller may see
        layers = [layer for layer in layers
                  if layer.tiles.minzoom <= tile.z and may_see_features(principal, layer)]
        if not layers:
            return Response(status_code=204, headers={"Cache-Control": CACHE_CONTROL})
    rendered = _cached(request, layers, tile) or await run_in_threadpool(_tiles, request, layers, tile)
    etag = _etag(rendered)
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


def _ogc(request: Request) -> str:
    return f"{request.app.state.settings.base_url}/ogc"


def _require_tms(tms: str) -> None:
    if tms != TMS:
        raise NotFoundError(f"Không có tập lưới ô '{tms}'; dùng {TMS}.",
                            message_en=f"There is no tile matrix set '{tms}'; use {TMS}.")


@router.get("/ogc/tileMatrixSets", summary="Các tập lưới ô / tile matrix sets")
def tile_matrix_sets(request: Request) -> dict[str, Any]:
    """The tile matrix sets of the tiles (WebMercatorQuad)."""
    return ogc_tiles.tile_matrix_sets(_ogc(request))


@router.get("/ogc/tileMatrixSets/{tms}", summary="Định nghĩa lưới ô / tile matrix set")
def tile_matrix_set(tms: str) -> dict[str, Any]:
    """The WebMercatorQuad definition (OGC Two Dimensional Tile Matrix Set 2.0, JSON)."""
    _require_tms(tms)
    return ogc_tiles.tile_matrix_set()


@router.get("/ogc/tiles", summary="Tập ô của bộ dữ liệu / dataset tilesets")
def dataset_tilesets(request: Request) -> dict[str, Any]:
    """The dataset's vector tilesets (one, every layer from its minimum zoom)."""
    return ogc_tiles.tilesets(_ogc(request), "/tiles", DATASET_TITLE)


@router.get("/ogc/tiles/{tms}", summary="Tập ô của bộ dữ liệu / dataset tileset")
def dataset_tileset(request: Request, tms: str) -> dict[str, Any]:
    """Metadata of the dataset's vector tileset: limits, the tile template, its layers."""
    _require_tms(tms)
    return ogc_tiles.tileset(_ogc(request), list(PUBLISHED), "/tiles", DATASET_TITLE)


@router.get("/ogc/tiles/WebMercatorQuad/{z}/{row}/{col}",
            summary="Ô vector nhiều lớp / dataset vector tile")
async def dataset_tile(request: Request, z: int, row: int, col: int,
                       collections: str | None = None) -> Response:
    """One tile of every layer (or of ``collections``) the caller may see, each from its
    minimum zoom; 204 when empty."""
    names = collections or ",".join(layer.id for layer in PUBLISHED)
    return await _respond(request, names, z, col, row, combined=True)


@router.get("/ogc/collections/{layer_id}/tiles", summary="Tập ô của lớp / tilesets")
def tilesets(request: Request, layer_id: str) -> dict[str, Any]:
    """The layer's tilesets (one: vector tiles in WebMercatorQuad)."""
    layer = require_layer(layer_id)
    return ogc_tiles.tilesets(_ogc(request), f"/collections/{layer.id}/tiles", layer.title["vi"])


@router.get("/ogc/collections/{layer_id}/tiles/{tms}", summary="Tập ô / tileset")
def tileset(request: Request, layer_id: str, tms: str) -> dict[str, Any]:
    """Metadata of the layer's WebMercatorQuad vector tileset."""
    layer = require_layer(layer_id)
    _require_tms(tms)
    return ogc_tiles.tileset(_ogc(request), [layer], f"/collections/{layer.id}/tiles",
                             layer.title["vi"])
