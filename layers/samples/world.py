"""The province as the generators see it: the communes and their villages in the local plane.

A ``World`` is built once per load from ``data_samples/communes.geojson``, the seed and the
scale; every generator reads it, draws from its own random stream and leaves on it what another
generator needs (each such reader names the writer in its ``after``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from numpy.random import Generator
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points

from layers.samples.draw import largest_remainder, stream_rng
from layers.samples.geometry import (
    as_multi,
    clip_lines,
    linear,
    sample_disc,
    sample_in,
    to_plane,
    xy_to_plane,
)
from layers.samples.names import GROUPS, NAMES, village_name
from layers.samples.reference import CAPITAL, CAPITAL_CENTRE, CAPITAL_DISTRICT, TOTAL_POPULATION

_INSET_M = 1.0  # features stay this far inside their commune

# Ethnic make-up by pre-2025 district (rough shares after the 2009/2019 censuses).
_DISTRICT_MIX: dict[str, dict[str, float]] = {
    "Thành phố Lai Châu": {"kinh": 0.52, "thai": 0.14, "mong": 0.12, "dao": 0.1, "giay": 0.08,
                           "lu": 0.02, "ha_nhi": 0.02},
    "Huyện Tam Đường": {"mong": 0.3, "dao": 0.2, "thai": 0.18, "giay": 0.14, "kinh": 0.13,
                        "lu": 0.05},
    "Huyện Phong Thổ": {"mong": 0.33, "dao": 0.3, "thai": 0.14, "giay": 0.08, "kinh": 0.07,
                        "ha_nhi": 0.04, "lu": 0.04},
    "Huyện Sìn Hồ": {"mong": 0.45, "thai": 0.22, "dao": 0.14, "kinh": 0.08, "ha_nhi": 0.05,
                     "lu": 0.03, "giay": 0.03},
    "Huyện Mường Tè": {"ha_nhi": 0.28, "la_hu": 0.2, "thai": 0.16, "mong": 0.12, "cong": 0.06,
                       "kinh": 0.1, "dao": 0.08},
    "Huyện Nậm Nhùn": {"thai": 0.28, "mong": 0.3, "dao": 0.1, "kinh": 0.1, "cong": 0.1,
                       "ha_nhi": 0.07, "la_hu": 0.05},
    "Huyện Than Uyên": {"thai": 0.58, "mong": 0.18, "kinh": 0.18, "dao": 0.03, "giay": 0.03},
    "Huyện Tân Uyên": {"thai": 0.42, "mong": 0.22, "kinh": 0.18, "dao": 0.12, "giay": 0.03,
                       "lu": 0.03},
}
# Rough people per km² of the rural pre-2025 districts (2019 census order of magnitude); the
# two wards (the former city plus five rural communes) get their own density.
_DISTRICT_DENSITY = {
    "Huyện Tam Đường": 80.0, "Huyện Phong Thổ": 77.0, "Huyện Sìn Hồ": 55.0,
    "Huyện Mường Tè": 18.0, "Huyện Nậm Nhùn": 21.0, "Huyện Than Uyên": 85.0,
    "Huyện Tân Uyên": 65.0, "Thành phố Lai Châu": 240.0,
}
_WARD_DENSITY = 240.0
# Relative poverty of the pre-2025 districts (highest in Mường Tè and Nậm Nhùn, lowest in the
# Than Uyên/Tân Uyên valleys), shaping the per-commune rates around the provincial average.
_DISTRICT_HARDSHIP = {
    "Huyện Mường Tè": 2.6, "Huyện Nậm Nhùn": 2.0, "Huyện Sìn Hồ": 1.6, "Huyện Phong Thổ": 1.3,
    "Huyện Tam Đường": 1.0, "Huyện Tân Uyên": 0.9, "Huyện Than Uyên": 0.75,
    "Thành phố Lai Châu": 0.1,
}


@dataclass
class Village:
    """A village (bản) or urban block (tổ dân phố) in the local plane."""

    label: str  # "Bản Nà Khum" / "Tổ dân phố số 3"
    base: str | None  # "Nà Khum" (None for numbered blocks)
    xy: np.ndarray
    weight: float  # nominal households at scale 1 (relative)
    group: int  # dominant ethnic group
    radius: float
    parent: int = -1

    @property
    def lower(self) -> str:
        """The label as it reads inside a sentence ("bản Nà Khum")."""
        return self.label[0].lower() + self.label[1:]


@dataclass
class Commune:
    """One of the 38 units with what the generator derives from it."""

    index: int
    props: dict[str, Any]
    geom: BaseGeometry  # lon/lat, as in the file
    plane: BaseGeometry
    inner: BaseGeometry  # plane, shrunk by _INSET_M and prepared
    centre: np.ndarray = field(default_factory=lambda: np.zeros(2))
    town: str | None = None
    hardship: float = 1.0  # relative poverty level of its former districts
    population: int = 0
    mix: np.ndarray = field(default_factory=lambda: np.zeros(len(GROUPS)))
    villages: list[Village] = field(default_factory=list)

    @property
    def code(self) -> str:
        """Official code."""
        return self.props["code"]

    @property
    def name(self) -> str:
        """Short name ("Bình Lư")."""
        return self.props["name"]

    @property
    def is_ward(self) -> bool:
        """True for a phường."""
        return self.props["unit_type"] == "ward"

    @property
    def unit(self) -> str:
        """"phường" or "xã", as written before a name in running text."""
        return "phường" if self.is_ward else "xã"

    @property
    def districts(self) -> list[str]:
        """Pre-2025 districts its predecessors belonged to."""
        return list(self.props.get("predecessor_districts") or [])


class World:
    """Everything the generators share: communes, seed, scale and what one leaves for another."""

    def __init__(self, communes: list[Commune], seed: int, scale: float,
                 samples_dir: Path) -> None:
        self.communes = communes
        self.seed = seed
        self.scale = scale
        self.samples_dir = samples_dir
        self.by_name = {c.name: c for c in communes}
        self.tree = shapely.STRtree([c.inner for c in communes])
        self.towns = {c.town: c for c in communes if c.town}
        # Left by one generator for others:
        self.streets: list[tuple[str, BaseGeometry]] = []  # roads: ward streets (plane, unclipped)
        self.substations: dict[str, np.ndarray] = {}  # stations: 110 kV substation by town
        self.water_sources: dict[str, np.ndarray] = {}  # stations: water source by commune code
        self.parcels: list[dict[str, Any]] = []  # land_parcels: every parcel kept
        self.citizen_ids: set[str] = set()  # housing, construction_permits: ids given out

    def rng(self, stream: str) -> Generator:
        """The generator of one stream."""
        return stream_rng(self.seed, stream)

    def near(self, rng: Generator, c: Commune, xy: np.ndarray, lo: float, hi: float,
             n: int = 1) -> np.ndarray:
        """``n`` points ``lo``–``hi`` metres from ``xy`` inside ``c`` (fallback: ``xy``)."""
        out = np.repeat(np.asarray(xy, dtype=float)[None], n, 0)
        todo = np.arange(n)
        for _ in range(60):
            if not todo.size:
                break
            r = rng.uniform(lo, hi, todo.size)
            a = rng.uniform(0, 2 * np.pi, todo.size)
            cand = np.asarray(xy) + np.column_stack([r * np.cos(a), r * np.sin(a)])
            ok = shapely.contains_xy(c.inner, cand[:, 0], cand[:, 1])
            out[todo[ok]] = cand[ok]
            todo = todo[~ok]
        return out

    def keep(self, rng: Generator) -> bool:
        """Whether to generate one more local feature: a ``scale`` share of them (all at 1)."""
        return self.scale >= 1.0 or bool(rng.random() < self.scale)

    def fit_local(self, chosen: list[tuple[Commune, BaseGeometry, dict]]
                  ) -> list[tuple[BaseGeometry, dict[str, Any]]]:
        """Lines clipped to their own commune (too short remains dropped)."""
        out: list[tuple[BaseGeometry, dict[str, Any]]] = []
        by_commune: dict[int, list[tuple[BaseGeometry, dict[str, Any]]]] = {}
        for c, geom, values in chosen:
            by_commune.setdefault(c.index, []).append((geom, values))
        for c in self.communes:
            mine = by_commune.get(c.index, [])
            clipped = clip_lines(c.inner, [g for g, _ in mine])
            out.extend((g, v) for g, (_, v) in zip(clipped, mine, strict=True) if g is not None)
        return out

    def split_by_commune(self, line: BaseGeometry) -> list[tuple[Commune, BaseGeometry]]:
        """A long line cut into one piece per commune it crosses (outside the province: dropped)."""
        pieces = []
        for i in sorted(self.tree.query(line, predicate="intersects").tolist()):
            clipped = linear(shapely.intersection(line, self.communes[i].inner), 50.0)
            if clipped is not None:
                pieces.append((self.communes[i], clipped))
        return pieces


def build_world(samples_dir: Path, seed: int, scale: float) -> World:
    """The communes of ``samples_dir`` with their villages, for ``seed`` and ``scale``."""
    communes = build_communes(samples_dir, stream_rng(seed, "communes"))
    village_rng = stream_rng(seed, "villages")
    for c in communes:
        place_villages(village_rng, c)
    return World(communes, seed, scale, samples_dir)


def read_features(path: Path) -> list[dict[str, Any]]:
    """The features of a GeoJSON file."""
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)["features"]


def build_communes(samples_dir: Path, rng: Generator) -> list[Commune]:
    """The 38 units with their centres, hardship, population estimate and ethnic mix."""
    communes: list[Commune] = []
    for i, feature in enumerate(read_features(samples_dir / "communes.geojson")):
        geom = as_multi(shape(feature["geometry"]))
        plane = to_plane(geom)
        inner = shapely.buffer(plane, -_INSET_M)
        shapely.prepare(inner)
        communes.append(Commune(i, dict(feature["properties"]), geom, plane, inner))

    capital = xy_to_plane(*CAPITAL_CENTRE)
    capital_point = shapely.Point(capital)
    for c in communes:
        for pred in c.props.get("predecessor_names") or []:
            if pred.startswith("Thị trấn "):
                c.town = pred.removeprefix("Thị trấn ")
        margin = 800.0 if c.is_ward else 500.0
        target = capital_point if c.is_ward else c.plane.centroid
        if c.inner.contains(target) and c.inner.boundary.distance(target) >= margin:
            c.centre = np.array(target.coords[0])
        else:
            core = shapely.buffer(c.inner, -margin)
            core = c.inner if core.is_empty else core
            c.centre = np.array(nearest_points(core, target)[0].coords[0])
    central = [c for c in communes if c.is_ward and c.inner.contains(capital_point)]
    if central:
        central[0].town = CAPITAL

    weights = []
    for c in communes:
        known = [_DISTRICT_HARDSHIP[d] for d in c.districts if d in _DISTRICT_HARDSHIP]
        c.hardship = 0.1 if c.is_ward else float(np.mean(known)) if known else 1.0
        area = float(c.props.get("area_km2_source") or c.props.get("area_km2_geodesic") or 1.0)
        if c.is_ward:
            density = _WARD_DENSITY
        else:
            known = [_DISTRICT_DENSITY[d] for d in c.districts if d in _DISTRICT_DENSITY]
            density = float(np.mean(known)) if known else 55.0
        w = area * density * (1.3 if c.town and not c.is_ward else 1.0)
        weights.append(w * rng.lognormal(0.0, 0.2))
        mix = np.zeros(len(GROUPS))
        for district in c.districts or [CAPITAL_DISTRICT]:
            for group, share in _DISTRICT_MIX.get(district, {"kinh": 1.0}).items():
                mix[GROUPS.index(group)] += share
        c.mix = mix / mix.sum()
    for c, pop in zip(communes, largest_remainder(np.array(weights), TOTAL_POPULATION),
                      strict=True):
        c.population = int(pop)
    return communes


def place_villages(rng: Generator, c: Commune) -> None:
    """Villages: the commune centre plus others spread out, at least ``gap`` metres apart."""
    n = int(np.clip(round(c.population / 445), 6, 70))
    gap = 380.0 if c.is_ward else 850.0
    k_core = int(n * (0.7 if c.is_ward else 0.3)) * 12
    core = sample_disc(rng, c.inner, np.repeat(c.centre[None], k_core, 0),
                       5000.0 if c.is_ward else 7000.0)
    spread = sample_in(rng, c.inner, n * 14)
    candidates = np.vstack([core, spread])
    candidates = candidates[rng.permutation(len(candidates))]
    accepted = np.empty((n, 2))
    accepted[0] = c.centre
    k = 1
    for p in candidates:
        if k >= n:
            break
        if np.min(np.sum((accepted[:k] - p) ** 2, axis=1)) >= gap * gap:
            accepted[k] = p
            k += 1
    accepted = accepted[:k]
    dist = np.hypot(*(accepted - c.centre).T)
    order = np.argsort(dist, kind="stable")
    accepted, dist = accepted[order], dist[order]

    capital_mix = np.array([_DISTRICT_MIX[CAPITAL_DISTRICT].get(g, 0.0) for g in GROUPS])
    taken = {c.name.casefold()}
    predecessors = [
        p.split(" ", 1)[1] for p in c.props.get("predecessor_names") or []
        if p.startswith("Xã ") and p.split(" ", 1)[1].casefold() != c.name.casefold()
    ]
    urban = c.is_ward & (dist < 4000.0)
    # Former commune seats: spread over the rural villages, from near to far.
    rural = [j for j in range(1, len(accepted)) if not urban[j]]
    seats = {rural[int(len(rural) * (i + 0.5) / len(predecessors))]: name
             for i, name in enumerate(predecessors[:len(rural)])}
    taken.update(name.casefold() for name in seats.values())
    urban_blocks = 0
    villages: list[Village] = []
    for j, xy in enumerate(accepted):
        mix = capital_mix / capital_mix.sum() if urban[j] else c.mix
        group = int(rng.choice(len(GROUPS), p=mix))
        weight = float(rng.lognormal(0.0, 0.45))
        if urban[j]:
            weight *= 1.6
            urban_blocks += 1
            label, base = f"Tổ dân phố số {urban_blocks}", None
        else:
            if j == 0:
                base, weight = c.name, weight * 2.2
            elif j in seats:
                base, weight = seats[j], weight * 1.6
            else:
                base = village_name(rng, NAMES[GROUPS[group]].village_style, taken)
            label = f"Bản {base}"
        radius = (220.0 if urban[j] else 160.0) * math.sqrt(weight) + 60.0
        villages.append(Village(label, base, xy, weight, group, radius))
    # Road tree: each village hangs on the nearest village closer to the centre.
    for j in range(1, len(villages)):
        d2 = np.sum((accepted[:j] - accepted[j]) ** 2, axis=1)
        villages[j].parent = int(np.argmin(d2))
    c.villages = villages


def major_edges(c: Commune) -> set[int]:
    """Villages whose link to their parent lies on the way from the centre to a former commune
    seat or to one of the four largest villages: those links are commune roads."""
    predecessors = {p.split(" ", 1)[-1] for p in c.props.get("predecessor_names") or []}
    by_size = sorted(range(1, len(c.villages)), key=lambda j: -c.villages[j].weight)[:4]
    targets = {j for j, v in enumerate(c.villages) if j and v.base in predecessors}
    edges: set[int] = set()
    for j in sorted(targets | set(by_size)):
        while j > 0 and j not in edges:
            edges.add(j)
            j = c.villages[j].parent
    return edges

