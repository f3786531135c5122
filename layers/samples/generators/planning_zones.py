"""Sample planning zones: the capital's master plan and detailed plans of commune centres."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import shapely
from numpy.random import Generator

from layers.samples.draw import pick
from layers.samples.generator import SampleGenerator
from layers.samples.geometry import jittered_grid, polygonal, quads
from layers.samples.names import ascii_slug
from layers.samples.reference import CAPITAL, ICT
from layers.samples.table import Table
from layers.samples.world import Commune, World

_ZONE_PREFIX = {
    "residential": "ĐO", "commercial": "TM", "public": "CC", "green": "CX", "industrial": "CN",
    "transport": "GT", "agricultural": "NN", "forest": "LN", "mixed": "HH",
}


def build(world: World) -> Table:
    """The capital's master plan over both wards and detailed plans of commune centres."""
    rng = world.rng("planning")
    table = Table("planning_zones")
    capital = world.towns.get(CAPITAL)
    wards = [c for c in world.communes if c.is_ward]
    plans: list[tuple[str, str, list[Commune], np.ndarray, float, float, date, str]] = []
    if capital is not None:
        plans.append(("Quy hoạch chung đô thị Lai Châu đến năm 2040", "master", wards,
                      capital.centre, 3600.0, 420.0, date(2023, 9, 12),
                      "qhc-do-thi-lai-chau-2040"))
    rural = [c for c in world.communes if not c.is_ward]
    chosen = [c for c in rural if c.town]
    others = [c for c in rural if not c.town]
    for i in sorted(rng.choice(len(others), size=min(4, len(others)),
                               replace=False).tolist()):
        chosen.append(others[i])
    for c in sorted(chosen, key=lambda c: c.index):
        day = date(2019, 1, 1) + timedelta(days=int(rng.integers(0, 6 * 365)))
        plans.append((f"Quy hoạch chi tiết xây dựng trung tâm xã {c.name} tỷ lệ 1/500",
                      "detailed", [c], c.centre, 600.0, 140.0, day,
                      f"qhct-trung-tam-xa-{ascii_slug(c.name)}"))
    for name, level, communes, centre, radius, cell, decided, slug in plans:
        number = f"{int(rng.integers(100, 3000))}/QĐ-UBND"
        k = int(radius // cell) + 1
        nodes = jittered_grid(rng, centre, k, cell * rng.uniform(0.85, 1.15),
                              cell * rng.uniform(0.85, 1.15), 0.18)
        ii, jj = np.meshgrid(np.arange(-k, k), np.arange(-k, k), indexing="ij")
        counters: dict[str, int] = {}
        for i, j in zip(ii.ravel().tolist(), jj.ravel().tolist(), strict=True):
            ring = quads(nodes, np.array([i + k]), np.array([j + k]), 1)[0]
            dist = float(np.hypot(*(ring[:4].mean(axis=0) - centre)))
            if dist > radius:
                continue
            cell_poly = shapely.Polygon(ring)
            land_use = _land_use(rng, dist / radius, level)
            for c in communes:
                if c.inner.contains(cell_poly):
                    piece = shapely.MultiPolygon([cell_poly])
                elif c.inner.intersects(cell_poly):
                    piece = polygonal(shapely.intersection(cell_poly, c.inner),
                                      0.25 * cell * cell)
                else:
                    continue
                if piece is None:
                    continue
                prefix = _ZONE_PREFIX[land_use]
                counters[prefix] = counters.get(prefix, 0) + 1
                table.add(piece, plan_name=name, plan_level=level, land_use=land_use,
                          zone_code=f"{prefix}-{counters[prefix]:02d}",
                          decision_number=number, decision_date=decided,
                          drawing_url=f"docs/planning/{slug}/ban-ve-quy-hoach.pdf",
                          report_url=f"docs/planning/{slug}/thuyet-minh.pdf",
                          commune_code=c.code,
                          created_at=datetime(decided.year, decided.month, decided.day, 9,
                                              tzinfo=ICT) + timedelta(days=30),
                          updated_at=datetime(decided.year, decided.month, decided.day, 9,
                                              tzinfo=ICT) + timedelta(days=30))
    return table


def _land_use(rng: Generator, r: float, level: str) -> str:
    if r < 0.2:
        options, probs = ["commercial", "mixed", "public", "green"], [0.3, 0.3, 0.25, 0.15]
    elif r < 0.6:
        options = ["residential", "public", "green", "commercial", "transport"]
        probs = [0.58, 0.14, 0.14, 0.08, 0.06]
    elif level == "master" and r < 0.85:
        options = ["residential", "green", "industrial", "agricultural", "transport"]
        probs = [0.42, 0.18, 0.12, 0.22, 0.06]
    elif level == "master":
        options, probs = ["agricultural", "forest", "green"], [0.45, 0.45, 0.1]
    else:
        options, probs = ["residential", "green", "agricultural"], [0.55, 0.2, 0.25]
    return pick(rng, options, probs, 1)[0]


GENERATOR = SampleGenerator(build)
