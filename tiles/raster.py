"""Raster layers: Cloud-Optimised GeoTIFFs served as hillshade and elevation (terrain-RGB) tiles,
and zonal statistics of a terrain model per commune.

Rasters live as ``<var>/rasters/<name>.tif``. ``add_raster`` accepts a real COG (validated);
``ensure_terrain`` writes the platform's SYNTHETIC terrain model when none is there.
"""

from __future__ import annotations

import json
import math
import shutil
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from rasterio.enums import Resampling
from rasterio.errors import NotGeoreferencedWarning
from rasterio.features import geometry_mask
from rasterio.io import MemoryFile
from rasterio.mask import mask as mask_raster
from rasterio.shutil import copy as copy_raster
from rasterio.transform import from_bounds, from_origin
from rasterio.warp import reproject

from gis_core.errors import InvalidParameterError, NotFoundError
from tiles.mvt import layer_version
from tiles.raster_names import KINDS, TERRAIN

TILE = 256
HALF_WORLD = 20037508.342789244  # metres, EPSG:3857
NODATA = -32768.0
STEEP_DEGREES = 25.0  # slopes above this are "steep" (land-use and landslide practice)
_NAME_OK = set("abcdefghijklmnopqrstuvwxyz0123456789_-")
# Tiles are warped into bare arrays and written as PNG: neither has a georeference, by design.
# (A module filter, not catch_warnings: tiles are drawn in several threads at once.)
warnings.filterwarnings("ignore", category=NotGeoreferencedWarning)


def raster_dir(var_dir: Path) -> Path:
    """Where the platform keeps its rasters."""
    return Path(var_dir) / "rasters"


def raster_path(var_dir: Path, name: str) -> Path:
    """The file of raster ``name``; 404 when there is none."""
    path = raster_dir(var_dir) / f"{name}.tif"
    if not (set(name) <= _NAME_OK) or not path.is_file():
        raise NotFoundError(f"Không có lớp raster '{name}'.", message_en=f"No raster layer '{name}'.")
    return path


def list_rasters(var_dir: Path) -> list[str]:
    """Names of the rasters present."""
    folder = raster_dir(var_dir)
    return sorted(p.stem for p in folder.glob("*.tif")) if folder.is_dir() else []


# --- the synthetic terrain ------------------------------------------------------------------

def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], cells: int) -> np.ndarray:
    """Value noise in [-1, 1]: a random grid of ``cells`` per side, turned by a random angle (no
    north-south grain) and smoothly interpolated onto ``shape``."""
    angle = rng.uniform(0, math.pi)
    span = cells * 2 + 4
    coarse = rng.uniform(-1, 1, (int(span) + 2, int(span) + 2))
    i = np.linspace(-0.5, 0.5, shape[0])[:, None] * cells
    j = np.linspace(-0.5, 0.5, shape[1])[None, :] * cells * shape[1] / shape[0]
    rows = i * math.cos(angle) - j * math.sin(angle) + span / 2
    cols = i * math.sin(angle) + j * math.cos(angle) + span / 2
    r0, c0 = np.floor(rows).astype(int), np.floor(cols).astype(int)
    fr, fc = rows - r0, cols - c0
    fr, fc = fr * fr * (3 - 2 * fr), fc * fc * (3 - 2 * fc)  # smoothstep: no creases
    a, b = coarse[r0, c0], coarse[r0, c0 + 1]
    c, d = coarse[r0 + 1, c0], coarse[r0 + 1, c0 + 1]
    return (a * (1 - fc) + b * fc) * (1 - fr) + (c * (1 - fc) + d * fc) * fr


def synthetic_elevation(bounds: tuple[float, float, float, float], shape: tuple[int, int],
                        seed: int = 20250701) -> np.ndarray:
    """A SYNTHETIC relief with Lai Châu's character, in metres: ridges rising to about 3,000 m
    towards the north-west, a broad valley (about 300–900 m) running north-west to south-east.
    Deterministic for a given seed; not a measurement of anything."""
    rng = np.random.default_rng(seed)
    west, south, east, north = bounds
    lon = np.linspace(west, east, shape[1])[None, :]
    lat = np.linspace(north, south, shape[0])[:, None]
    u = (lon - west) / (east - west)  # 0 west .. 1 east
    v = (north - lat) / (north - south)  # 0 north .. 1 south
    # Ridged multi-octave noise: sharp crests, rounded valleys.
    ridges = np.zeros(shape)
    octaves = (6, 13, 27, 55, 110, 220)
    for octave, cells in enumerate(octaves):
        ridges += (1 - np.abs(_smooth_noise(rng, shape, cells))) ** 2 / 1.6**octave
    ridges /= sum(1 / 1.6**o for o in range(len(octaves)))
    north_west = np.clip(1.15 - np.hypot(u * 0.9, v * 1.1), 0, 1)  # 1 in the north-west corner
    # The valley: a band from the north-west to the south-east, a little meandering.
    across = (v - 0.35 - 0.45 * u) + 0.06 * _smooth_noise(rng, shape, 5)
    valley = np.exp(-(across / 0.09) ** 2)
    relief = 400 + 3400 * ridges ** 1.3 * (0.35 + 0.65 * north_west)
    elevation = relief * (1 - 0.8 * valley) + 320 * valley
    return np.clip(elevation, 250, 3100).astype("float32")


def write_terrain(path: Path, province_geojson: Path, resolution: float = 0.002) -> Path:
    """Write the SYNTHETIC terrain over the province as a COG (outside the province: nodata)."""
    province = json.loads(Path(province_geojson).read_text(encoding="utf-8"))
    geoms = [f["geometry"] for f in province["features"]]
    xs, ys = zip(*_coords(geoms), strict=True)
    west, south = math.floor(min(xs) * 50) / 50, math.floor(min(ys) * 50) / 50
    east, north = math.ceil(max(xs) * 50) / 50, math.ceil(max(ys) * 50) / 50
    width, height = round((east - west) / resolution), round((north - south) / resolution)
    transform = from_origin(west, north, resolution, resolution)
    elevation = synthetic_elevation((west, south, east, north), (height, width))
    outside = geometry_mask(geoms, out_shape=(height, width), transform=transform, all_touched=True)
    elevation[outside] = NODATA
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.tif")
    profile = {"driver": "COG", "compress": "DEFLATE", "predictor": 3, "blocksize": 256,
               "overview_resampling": "average"}
    with MemoryFile() as memory:
        with memory.open(driver="GTiff", width=width, height=height, count=1, dtype="float32",
                         crs="EPSG:4326", transform=transform, nodata=NODATA) as draft:
            draft.write(elevation, 1)
            draft.update_tags(SYNTHETIC="yes", DESCRIPTION=(
                "SYNTHETIC terrain model of Lai Châu generated by the IOC platform "
                "(deterministic noise shaped like the province's relief); not measured elevation"))
            draft.set_band_description(1, "elevation (m), SYNTHETIC")
        with memory.open() as draft:
            copy_raster(draft, tmp, **profile)
    tmp.replace(path)
    return path


def _coords(geoms: list[dict[str, Any]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []

    def walk(node: Any) -> None:
        if isinstance(node[0], (int, float)):
            out.append((node[0], node[1]))
        else:
            for child in node:
                walk(child)

    for geom in geoms:
        walk(geom["coordinates"])
    return out


def ensure_terrain(var_dir: Path, province_geojson: Path) -> Path:
    """The terrain raster, written first when missing."""
    path = raster_dir(var_dir) / f"{TERRAIN}.tif"
    return path if path.is_file() else write_terrain(path, province_geojson)


# --- adding a real COG -----------------------------------------------------------------------

def validate_cog(path: Path) -> dict[str, Any]:
    """Check that ``path`` is a single-band, georeferenced Cloud-Optimised GeoTIFF; its summary."""
    def bad(vi: str, en: str) -> InvalidParameterError:
        return InvalidParameterError(f"{path.name}: {vi}", message_en=f"{path.name}: {en}",
                                     parameter="file")

    try:
        src = rasterio.open(path)
    except rasterio.errors.RasterioIOError:
        raise bad("không đọc được như ảnh raster.", "cannot be read as a raster.") from None
    with src:
        if src.driver != "GTiff":
            raise bad(f"không phải GeoTIFF (định dạng {src.driver}).", f"not a GeoTIFF ({src.driver}).")
        if src.crs is None:
            raise bad("không có hệ tọa độ.", "has no coordinate reference system.")
        if src.count != 1 or not np.issubdtype(np.dtype(src.dtypes[0]), np.number):
            raise bad("cần đúng một kênh số (độ cao).", "needs exactly one numeric band (elevation).")
        layout = src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT")
        tiled = src.profile.get("tiled", False) or src.block_shapes[0][1] == src.width < 512
        if layout != "COG" and not (tiled and (src.overviews(1) or max(src.shape) <= 512)):
            raise bad("không phải COG (cần lát ô và ảnh tổng quan); hãy chuyển bằng "
                      "'gdal_translate -of COG'.",
                      "is not a COG (needs internal tiling and overviews); convert it with "
                      "'gdal_translate -of COG'.")
        return {"width": src.width, "height": src.height, "crs": src.crs.to_string(),
                "bounds": list(src.bounds), "overviews": src.overviews(1)}


def add_raster(var_dir: Path, source: Path, name: str | None = None) -> Path:
    """Validate ``source`` as a COG and copy it in as raster ``name`` (default: its file name)."""
    name = (name or Path(source).stem).lower()
    if not name or not set(name) <= _NAME_OK:
        raise InvalidParameterError(
            f"Tên lớp raster '{name}' không hợp lệ (chữ thường, số, '_' hoặc '-').",
            message_en=f"Invalid raster name '{name}' (lower case, digits, '_' or '-').",
            parameter="name")
    validate_cog(Path(source))
    target = raster_dir(var_dir) / f"{name}.tif"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp.tif")
    shutil.copyfile(source, tmp)
    tmp.replace(target)
    return target


# --- tiles -----------------------------------------------------------------------------------

def _tile_elevation(path: Path, z: int, x: int, y: int, pad: int = 0) -> np.ndarray | None:
    """The tile's elevations in EPSG:3857, NaN where there is no data; None when all empty."""
    size = 2 * HALF_WORLD / 2**z
    px = size / TILE
    west = -HALF_WORLD + x * size - pad * px
    north = HALF_WORLD - y * size + pad * px
    n = TILE + 2 * pad
    dst = np.full((n, n), np.nan, dtype="float32")
    with rasterio.open(path) as src:
        reproject(rasterio.band(src, 1), dst,
                  dst_transform=from_bounds(west, north - n * px, west + n * px, north, n, n),
                  dst_crs="EPSG:3857", dst_nodata=np.nan, src_nodata=src.nodata,
                  resampling=Resampling.bilinear)
    return None if np.isnan(dst).all() else dst


def _png(bands: np.ndarray) -> bytes:
    count, height, width = bands.shape
    with MemoryFile() as memory:
        with memory.open(driver="PNG", width=width, height=height, count=count, dtype="uint8") as png:
            png.write(bands)
        return memory.read()


def hillshade(elevation: np.ndarray, pixel_m: float, azimuth: float = 315.0,
              altitude: float = 45.0, exaggeration: float = 3.0) -> np.ndarray:
    """Shaded relief in [0, 1] from elevations on a grid of ``pixel_m`` metres."""
    dzdy, dzdx = np.gradient(elevation * exaggeration, pixel_m)
    slope = np.arctan(np.hypot(dzdx, dzdy))
    aspect = np.arctan2(-dzdx, dzdy)
    az, alt = math.radians(360 - azimuth + 90), math.radians(altitude)
    shade = math.sin(alt) * np.cos(slope) + math.cos(alt) * np.sin(slope) * np.cos(az - aspect)
    return np.clip(shade, 0, 1)


def _fill_edges(dem: np.ndarray) -> np.ndarray:
    """NaNs replaced by the nearest valid value along the row (then column), so the border of
    the data casts no false cliff."""
    out = dem.copy()
    for arr in (out, out.T):
        idx = np.where(np.isnan(arr), 0, np.arange(arr.shape[1])[None, :])
        np.maximum.accumulate(idx, axis=1, out=idx)
        arr[:] = np.take_along_axis(arr, idx, axis=1)
        back = np.where(np.isnan(arr[:, ::-1]), 0, np.arange(arr.shape[1])[None, :])
        np.maximum.accumulate(back, axis=1, out=back)
        arr[:] = np.take_along_axis(arr[:, ::-1], back, axis=1)[:, ::-1]
    return np.nan_to_num(out, nan=float(np.nanmean(dem)))


@lru_cache(maxsize=2048)
def render_raster_tile(path: Path, mtime: float, kind: str, z: int, x: int, y: int) -> bytes:
    """A PNG tile of raster ``path``: grey hillshade or Mapbox terrain-RGB; ``b""`` when empty.

    ``mtime`` is part of the cache key, so replacing the file replaces its tiles.
    """
    if kind == "hillshade":
        dem = _tile_elevation(path, z, x, y, pad=1)
        if dem is None:
            return b""
        lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * (y + 0.5) / 2**z))))
        pixel_m = 2 * HALF_WORLD / 2**z / TILE * math.cos(math.radians(lat))
        shade = hillshade(_fill_edges(dem), pixel_m)[1:-1, 1:-1]
        alpha = np.where(np.isnan(dem[1:-1, 1:-1]), 0, 255)
        grey = (shade * 255).astype("uint8")
        return _png(np.stack([grey, grey, grey, alpha.astype("uint8")]))
    if kind == "terrain-rgb":
        dem = _tile_elevation(path, z, x, y)
        if dem is None:
            return b""
        value = np.round((np.nan_to_num(dem, nan=0.0) + 10000) * 10).astype("int64")
        rgb = [(value >> 16) & 255, (value >> 8) & 255, value & 255]
        alpha = np.where(np.isnan(dem), 0, 255)
        return _png(np.stack([*rgb, alpha]).astype("uint8"))
    raise NotFoundError(f"Không có kiểu ô raster '{kind}' (có: {', '.join(KINDS)}).",
                        message_en=f"No raster tile kind '{kind}' (available: {', '.join(KINDS)}).")


def decode_terrain_rgb(r: int, g: int, b: int) -> float:
    """Elevation in metres of one terrain-RGB pixel."""
    return -10000 + (r * 65536 + g * 256 + b) * 0.1


# --- zonal statistics ------------------------------------------------------------------------

@dataclass(frozen=True)
class ZoneTerrain:
    """Terrain figures of one zone."""

    code: str
    name: str
    mean_elevation_m: float | None
    min_elevation_m: float | None
    max_elevation_m: float | None
    steep_share: float | None  # share of the zone's area with slope > STEEP_DEGREES


def zonal_terrain(path: Path, zones: list[tuple[str, str, dict[str, Any]]]) -> list[ZoneTerrain]:
    """Mean, min, max elevation and share of steep slopes per zone ((code, name, GeoJSON))."""
    out = []
    with rasterio.open(path) as src:
        geographic = src.crs.is_geographic
        for code, name, geom in zones:
            try:
                data, transform = mask_raster(src, [geom], crop=True, filled=False, pad=True)
            except ValueError:  # the zone lies outside the raster
                out.append(ZoneTerrain(code, name, None, None, None, None))
                continue
            dem = data[0].astype("float64").filled(np.nan)
            inside = ~data[0].mask
            if not inside.any():
                out.append(ZoneTerrain(code, name, None, None, None, None))
                continue
            dx, dy = abs(transform.a), abs(transform.e)
            if geographic:
                lat = transform.f - dy * dem.shape[0] / 2
                dx, dy = dx * 111_320 * math.cos(math.radians(lat)), dy * 110_574
            filled = np.where(np.isnan(dem), np.nanmean(dem), dem)
            dzdy, dzdx = np.gradient(filled, dy, dx)
            slope = np.degrees(np.arctan(np.hypot(dzdx, dzdy)))
            values = dem[inside]
            out.append(ZoneTerrain(
                code, name, round(float(values.mean()), 1), round(float(values.min()), 1),
                round(float(values.max()), 1),
                round(float((slope[inside] > STEEP_DEGREES).mean()), 4)))
    return out


_COMMUNE_TERRAIN: dict[tuple[Path, float, int | None], list[ZoneTerrain]] = {}


def commune_terrain(cursor: Any, path: Path) -> list[ZoneTerrain]:
    """Terrain figures of every commune (for scenarios and the map); computed again only when
    the raster file or the communes change."""
    key = (path, path.stat().st_mtime, layer_version(cursor, "communes"))
    if key not in _COMMUNE_TERRAIN or key[2] is None:
        cursor.execute("SELECT code, name, ST_AsGeoJSON(geom)::json FROM communes ORDER BY code")
        zones = [(code, name, geom) for code, name, geom in cursor.fetchall()]
        _COMMUNE_TERRAIN.clear()
        _COMMUNE_TERRAIN[key] = zonal_terrain(path, zones)
    return _COMMUNE_TERRAIN[key]
