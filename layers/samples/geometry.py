"""The local metric plane the samples are drawn in, and the shapes drawn there.

Features are generated in a local metric plane (equirectangular around the province), kept at
least a metre inside their commune, and converted to EPSG:4326 only when written.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
from numpy.random import Generator
from pyproj import Geod, Transformer
from shapely.geometry.base import BaseGeometry

GEOD = Geod(ellps="WGS84")

_LON0, _LAT0 = 103.15, 22.25
_PHI = math.radians(_LAT0)
_KX = 111_412.84 * math.cos(_PHI) - 93.5 * math.cos(3 * _PHI)  # metres per degree of longitude
_KY = 111_132.954 - 559.822 * math.cos(2 * _PHI) + 1.175 * math.cos(4 * _PHI)
_ORIGIN = np.array([_LON0, _LAT0])
_FACTOR = np.array([_KX, _KY])


def to_plane(geom: Any) -> Any:
    """Lon/lat geometries in the local plane (metres)."""
    return shapely.transform(geom, lambda c: (c - _ORIGIN) * _FACTOR)


def to_lonlat(geom: Any) -> Any:
    """Local-plane geometries back in lon/lat."""
    return shapely.transform(geom, lambda c: c / _FACTOR + _ORIGIN)


def xy_to_plane(lon: float, lat: float) -> np.ndarray:
    """One lon/lat position in the local plane."""
    return (np.array([lon, lat]) - _ORIGIN) * _FACTOR


def sample_in(rng: Generator, poly: BaseGeometry, n: int) -> np.ndarray:
    """``n`` uniform points inside ``poly`` (plane), by rejection from its bounding box."""
    minx, miny, maxx, maxy = poly.bounds
    chunks, need = [], n
    while need > 0:
        k = max(64, int(need * 3))
        x, y = rng.uniform(minx, maxx, k), rng.uniform(miny, maxy, k)
        ok = shapely.contains_xy(poly, x, y)
        pts = np.column_stack([x[ok], y[ok]])[:need]
        chunks.append(pts)
        need -= len(pts)
    return np.vstack(chunks) if chunks else np.empty((0, 2))


def sample_disc(rng: Generator, poly: BaseGeometry, centres: np.ndarray,
                radius: np.ndarray | float, rounds: int = 40) -> np.ndarray:
    """One point per centre within ``radius`` of it (denser towards the centre) inside ``poly``.

    Rejection sampling, vectorised; a point still outside after ``rounds`` stays at its centre
    (which must lie inside ``poly``).
    """
    centres = np.asarray(centres, dtype=float).reshape(-1, 2)
    n = len(centres)
    radius = np.broadcast_to(np.asarray(radius, dtype=float), (n,))
    out = centres.copy()
    todo = np.arange(n)
    for _ in range(rounds):
        if not todo.size:
            break
        r = radius[todo] * rng.random(todo.size) ** 0.75
        a = rng.uniform(0, 2 * np.pi, todo.size)
        cand = centres[todo] + np.column_stack([r * np.cos(a), r * np.sin(a)])
        ok = shapely.contains_xy(poly, cand[:, 0], cand[:, 1])
        out[todo[ok]] = cand[ok]
        todo = todo[~ok]
    return out


def wiggle(rng: Generator, waypoints: np.ndarray, *, amp: float, detail: float = 0.0,
           step: float = 120.0) -> np.ndarray:
    """A winding polyline through ``waypoints``: wide bends of about ``amp`` × leg length plus
    hairpin-like bends of ``detail`` metres; each leg is a graph over its chord (no loops)."""
    out = [np.asarray(waypoints[:1], dtype=float)]
    for a, b in zip(waypoints[:-1], waypoints[1:], strict=True):
        chord = b - a
        length = float(np.hypot(*chord))
        if length < 1.0:
            continue
        n = max(3, int(length // (min(step, 50.0) if detail > 0 else step)) + 2)
        t = np.linspace(0.0, 1.0, n)
        normal = np.array([-chord[1], chord[0]]) / length
        offset = np.zeros(n)
        for k in (1, 2, 3):
            offset += rng.normal(0.0, amp * length / k**1.5) * np.sin(k * np.pi * t)
        if detail > 0:
            # Bends of mixed wavelengths, bunched into stretches by a slow random envelope.
            along = t * length
            bends = sum(rng.uniform(0.4, 1.0)
                        * np.sin(2 * np.pi * along / rng.uniform(250.0, 1200.0)
                                 + rng.uniform(0, 2 * np.pi)) for _ in range(3))
            envelope = (0.5 + 0.5 * np.sin(2 * np.pi * along / rng.uniform(2500.0, 8000.0)
                                           + rng.uniform(0, 2 * np.pi))) ** 2
            offset += detail * envelope * bends * np.sin(np.pi * t) / 1.5
        pts = a + np.outer(t, chord) + np.outer(offset, normal)
        out.append(pts[1:])
    return np.vstack(out)


def linear(geom: BaseGeometry, min_length: float = 20.0) -> BaseGeometry | None:
    """The line parts of ``geom`` at least ``min_length`` long, as one MultiLineString."""
    if geom is None or geom.is_empty:
        return None
    merged = shapely.line_merge(geom) if geom.geom_type == "MultiLineString" else geom
    parts = [p for p in shapely.get_parts(merged)
             if p.geom_type == "LineString" and p.length >= min_length]
    if not parts and merged.geom_type == "GeometryCollection":
        parts = [p for p in shapely.get_parts(merged)
                 if p.geom_type == "LineString" and p.length >= min_length]
    return shapely.MultiLineString(parts) if parts else None


def polygonal(geom: BaseGeometry, min_area: float) -> BaseGeometry | None:
    """The polygon parts of ``geom`` of at least ``min_area``, as one MultiPolygon."""
    if geom is None or geom.is_empty:
        return None
    parts = [p for p in shapely.get_parts(geom)
             if p.geom_type == "Polygon" and p.area >= min_area]
    return shapely.MultiPolygon(parts) if parts else None


def clip_lines(poly: BaseGeometry, lines: Sequence[BaseGeometry],
               min_length: float = 20.0) -> list[BaseGeometry | None]:
    """Each line clipped to ``poly`` (MultiLineString), or None when too little remains."""
    if not lines:
        return []
    arr = np.empty(len(lines), dtype=object)
    arr[:] = list(lines)
    inside = shapely.contains(poly, arr)
    return [
        shapely.MultiLineString([line]) if ok else linear(shapely.intersection(line, poly),
                                                          min_length)
        for line, ok in zip(arr, inside, strict=True)
    ]


def jittered_grid(rng: Generator, centre: np.ndarray, g: int, w: float, h: float,
                  jitter: float) -> np.ndarray:
    """Nodes (2g+1, 2g+1, 2) of a randomly rotated w × h grid around ``centre``, each node
    moved by up to ``jitter`` of a cell: cells built from shared nodes tile without overlap."""
    angle = rng.uniform(0, np.pi)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    ni, nj = np.meshgrid(np.arange(-g, g + 1), np.arange(-g, g + 1), indexing="ij")
    nodes = np.stack([ni * w, nj * h], axis=-1) + rng.uniform(-jitter, jitter,
                                                              (*ni.shape, 2)) * [w, h]
    return nodes @ rot.T + centre


def quads(nodes: np.ndarray, a: np.ndarray, b: np.ndarray, span: int) -> np.ndarray:
    """Closed rings of the grid blocks with lower corner node (a, b) and ``span`` cells a side,
    through every boundary node so that neighbouring parcels share their edges exactly."""
    ring = ([(i, 0) for i in range(span)] + [(span, j) for j in range(span)]
            + [(span - i, span) for i in range(span)] + [(0, span - j) for j in range(span)]
            + [(0, 0)])
    return np.stack([nodes[a + di, b + dj] for di, dj in ring], axis=1)


def as_multi(geom: BaseGeometry) -> BaseGeometry:
    """A Polygon or LineString as its Multi- type; anything else as it is."""
    kind = geom.geom_type
    if kind == "Polygon":
        return shapely.MultiPolygon([geom])
    if kind == "LineString":
        return shapely.MultiLineString([geom])
    return geom


def areas_m2(geoms: np.ndarray) -> np.ndarray:
    """Ellipsoidal area of small lon/lat polygons, via an equal-area projection (m²)."""
    laea = Transformer.from_crs(
        "EPSG:4326", f"+proj=laea +lat_0={_LAT0} +lon_0={_LON0} +ellps=WGS84 +units=m",
        always_xy=True)
    return shapely.area(shapely.transform(geoms, lambda c: np.column_stack(
        laea.transform(c[:, 0], c[:, 1]))))


def geodesic_lengths_km(geoms: np.ndarray) -> np.ndarray:
    """Geodesic (WGS 84) length of each lon/lat line geometry, in km."""
    parts, part_of = shapely.get_parts(geoms, return_index=True)
    coords, coord_of = shapely.get_coordinates(parts, return_index=True)
    same = coord_of[1:] == coord_of[:-1]
    a, b = coords[:-1][same], coords[1:][same]
    _, _, dist = GEOD.inv(a[:, 0], a[:, 1], b[:, 0], b[:, 1])
    per_part = np.bincount(coord_of[:-1][same], weights=dist, minlength=len(parts))
    return np.bincount(part_of, weights=per_part, minlength=len(geoms)) / 1000.0
