"""Sample street trees, most along the ward streets."""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np
import shapely

from layers.samples.draw import pick, scaled, vintage
from layers.samples.generator import SampleGenerator
from layers.samples.reference import ICT
from layers.samples.table import Table
from layers.samples.world import Commune, World

_TREES = (  # species, typical mature height (m)
    ("Ban trắng", 10.0), ("Bằng lăng", 12.0), ("Phượng vĩ", 12.0), ("Sấu", 18.0),
    ("Long não", 16.0), ("Muồng hoàng yến", 10.0), ("Sao đen", 22.0), ("Xà cừ", 20.0),
    ("Lát hoa", 18.0), ("Đào rừng", 7.0), ("Anh đào", 6.0), ("Lộc vừng", 8.0),
    ("Hoa sữa", 15.0), ("Móng bò", 8.0),
)


def build(world: World) -> Table:
    """Street trees, most along the ward streets, the rest around commune centres."""
    rng = world.rng("trees")
    table = Table("trees")
    n = scaled(3500, world.scale, 1)
    wards = [c for c in world.communes if c.is_ward]
    n_ward = int(round(n * 0.85)) if world.streets and wards else 0
    points: list[tuple[Commune, np.ndarray]] = []
    if n_ward:
        lengths = np.array([s.length for _, s in world.streets])
        street_of = rng.choice(len(world.streets), size=n_ward * 2, p=lengths / lengths.sum())
        t = rng.random(n_ward * 2)
        side = rng.choice([-1.0, 1.0], size=n_ward * 2) * rng.uniform(5.0, 11.0, n_ward * 2)
        for s, tt, off in zip(street_of.tolist(), t.tolist(), side.tolist(), strict=True):
            if len(points) >= n_ward:
                break
            line = world.streets[s][1]
            p = line.interpolate(tt, normalized=True)
            q = line.interpolate(min(1.0, tt + 0.001), normalized=True)
            d = np.array(q.coords[0]) - np.array(p.coords[0])
            norm = np.hypot(*d) or 1.0
            xy = np.array(p.coords[0]) + np.array([-d[1], d[0]]) / norm * off
            for c in wards:
                if shapely.contains_xy(c.inner, *xy):
                    points.append((c, xy))
                    break
    rural = [c for c in world.communes if not c.is_ward]
    while len(points) < n:
        c = rural[int(rng.integers(len(rural)))] if rural else world.communes[0]
        points.append((c, world.near(rng, c, c.centre, 20.0, 700.0)[0]))
    species = rng.integers(len(_TREES), size=len(points))
    planted = rng.integers(1995, 2025, size=len(points))
    cond = pick(rng, ["good", "fair", "poor", "dead"], [0.74, 0.19, 0.05, 0.02], len(points))
    created, updated = vintage(rng, len(points), datetime(2024, 10, 1, 8, 0, tzinfo=ICT))
    for (c, xy), s, year, cd, cr, up in zip(points, species.tolist(), planted.tolist(),
                                            cond, created, updated, strict=True):
        name, mature = _TREES[s]
        age = 2025 - year
        height = round(float(mature * (1 - math.exp(-age / 9.0)) * rng.uniform(0.7, 1.2)
                             + 1.0), 1)
        table.add(shapely.Point(xy), species=name, height_m=min(height, 35.0),
                  planted_year=year, condition=cd, commune_code=c.code,
                  created_at=cr, updated_at=up)
    return table


GENERATOR = SampleGenerator(build, after=("roads",))
