"""Raster tiles (hillshade and terrain-RGB PNG) with TileJSON, and terrain figures per commune."""

from __future__ import annotations

import hashlib
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from gis_core.db import raw_cursor
from gis_core.errors import NotFoundError
from layers.ogc import PROVINCE_BBOX
from tiles.mvt import Tile
from tiles.raster_names import KINDS

# rasterio loads with the first raster request: tiles.raster is imported inside the handlers.

router = APIRouter(tags=["rasters"])
_TITLES = {"hillshade": "Bóng địa hình / hillshade", "terrain-rgb": "Độ cao (terrain-RGB) / elevation"}


@router.get("/api/v1/rasters", summary="Các lớp raster / raster layers")
def rasters(request: Request) -> dict[str, Any]:
    """The raster layers and their tile sets."""
    from tiles.raster import list_rasters

    base = request.app.state.settings.base_url
    return {"rasters": [
        {"name": name, "tilejson": {kind: f"{base}/tiles/raster/{name}/{kind}.json" for kind in KINDS}}
        for name in list_rasters(request.app.state.settings.var_dir)]}


@router.get("/tiles/raster/{name}/{kind}/{z}/{x}/{y}.png", summary="Ô raster / raster tile")
async def raster_tile(request: Request, name: str, kind: str, z: int, x: int, y: int) -> Response:
    """A 256-pixel PNG tile: grey ``hillshade`` or Mapbox ``terrain-rgb`` elevation; 204 when empty."""
    from tiles.raster import raster_path, render_raster_tile

    tile = Tile(z, x, y)
    path = raster_path(request.app.state.settings.var_dir, name)
    data = await run_in_threadpool(render_raster_tile, path, path.stat().st_mtime, kind,
                                   tile.z, tile.x, tile.y)
    etag = '"' + hashlib.blake2b(data, digest_size=10).hexdigest() + '"'
    headers = {"ETag": etag, "Cache-Control": "public, max-age=3600"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    if not data:
        return Response(status_code=204, headers=headers)
    return Response(data, media_type="image/png", headers=headers)


@router.get("/tiles/raster/{name}/{kind}.json", summary="TileJSON (raster)")
def raster_tilejson(request: Request, name: str, kind: str) -> dict[str, Any]:
    """TileJSON 3.0 of a raster tile set (``encoding: mapbox`` for terrain-RGB)."""
    from tiles.raster import raster_path

    raster_path(request.app.state.settings.var_dir, name)
    if kind not in KINDS:
        raise NotFoundError(f"Không có kiểu ô raster '{kind}' (có: {', '.join(KINDS)}).",
                            message_en=f"No raster tile kind '{kind}' (available: {', '.join(KINDS)}).")
    base = request.app.state.settings.base_url
    doc = {"tilejson": "3.0.0", "name": f"{name} — {_TITLES[kind]}", "attribution": "Lai Châu IOC",
           "tiles": [f"{base}/tiles/raster/{name}/{kind}/{{z}}/{{x}}/{{y}}.png"], "tileSize": 256,
           "minzoom": 5, "maxzoom": 15, "bounds": PROVINCE_BBOX, "center": [103.2, 22.3, 9]}
    if kind == "terrain-rgb":
        doc["encoding"] = "mapbox"
    return doc


@router.get("/api/v1/rasters/{name}/communes", summary="Địa hình theo xã / terrain per commune")
async def raster_communes(request: Request, name: str) -> list[dict[str, Any]]:
    """Mean, min and max elevation (m) and share of slopes over 25° in each commune."""
    from tiles.raster import commune_terrain, raster_path

    path = raster_path(request.app.state.settings.var_dir, name)

    def run() -> list[dict[str, Any]]:
        with raw_cursor(request.app.state.engine) as cursor:
            return [asdict(z) for z in commune_terrain(cursor, path)]

    return await run_in_threadpool(run)
