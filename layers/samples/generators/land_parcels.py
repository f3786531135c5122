"""Sample cadastral parcels around each village."""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np
import shapely
from numpy.random import Generator

from layers.samples.draw import largest_remainder, pick, scaled, vintage
from layers.samples.generator import SampleGenerator
from layers.samples.geometry import jittered_grid, quads
from layers.samples.reference import ICT
from layers.samples.table import Table
from layers.samples.world import Commune, Village, World


def build(world: World) -> Table:
    """Cadastral parcels on a slightly irregular grid around each village: house plots
    near the middle, larger fields further out; one map sheet per village."""
    rng = world.rng("land")
    table = Table("land_parcels")
    all_villages = [(c, j, v) for c in world.communes for j, v in enumerate(c.villages)]
    counts = largest_remainder(np.array([v.weight for _, _, v in all_villages]),
                               scaled(12000, world.scale))
    for (c, j, v), k in zip(all_villages, counts.tolist(), strict=True):
        if k == 0:
            continue
        urban = v.base is None
        k_res = max(1, int(round(k * (0.8 if urban else 0.6))))
        k_agr = k - k_res
        w, h = rng.uniform(16.0, 24.0), rng.uniform(22.0, 34.0)
        g = int(math.ceil(math.sqrt(k_res + 6 * k_agr) / 2)) + 3
        nodes = jittered_grid(rng, v.xy, g, w, h, 0.15)

        ci, cj = np.meshgrid(np.arange(-g, g), np.arange(-g, g), indexing="ij")
        ci, cj = ci.ravel(), cj.ravel()
        dist = np.hypot((ci + 0.5) * w, (cj + 0.5) * h)
        res_order = np.argsort(dist, kind="stable")[:k_res]
        res_cells = set(zip(ci[res_order].tolist(), cj[res_order].tolist(), strict=True))
        bi, bj = np.meshgrid(np.arange(-g, g - 1, 2), np.arange(-g, g - 1, 2),
                             indexing="ij")
        bi, bj = bi.ravel(), bj.ravel()
        free = np.array([not any((a + da, b + db) in res_cells for da in (0, 1)
                                 for db in (0, 1))
                         for a, b in zip(bi.tolist(), bj.tolist(), strict=True)], dtype=bool)
        bdist = np.hypot((bi + 1) * w, (bj + 1) * h)
        b_order = [i for i in np.argsort(bdist, kind="stable").tolist() if free[i]]
        b_order = [i for i in b_order if rng.random() < 0.7][:k_agr]
        res_q = quads(nodes, ci[res_order] + g, cj[res_order] + g, 1)
        agr_q = (quads(nodes, bi[b_order] + g, bj[b_order] + g, 2) if b_order
                 else np.empty((0, 9, 2)))
        polys = np.concatenate([shapely.polygons(res_q), shapely.polygons(agr_q)])
        ok = shapely.contains(c.inner, polys)
        uses = _parcel_uses(rng, c, v, j, len(res_q), len(agr_q))
        sheet = j + 1
        number = 0
        for poly, use, good in zip(polys.tolist(), uses, ok.tolist(), strict=True):
            if not good:
                continue
            number += 1
            table.add(poly, map_sheet=sheet, parcel_number=number, land_use_type=use,
                      commune_code=c.code)
            world.parcels.append(dict(commune=c, village=v, poly=poly, sheet=sheet,
                                      number=number, use=use))
    created, updated = vintage(rng, len(table), datetime(2024, 2, 20, 8, 0, tzinfo=ICT))
    table.cols["created_at"], table.cols["updated_at"] = created, updated
    return table


def _parcel_uses(rng: Generator, c: Commune, v: Village, j: int, n_res: int,
                 n_agr: int) -> list[str]:
    home = "ODT" if c.is_ward and v.base is None else "ONT"
    uses = [home] * n_res
    if j == 0 and n_res >= 6:
        uses[1:4] = ["TSC", "DGD", "DYT"]
    fields = ["LUA", "HNK", "CLN", "RSX", "RPH"]
    probs = [0.15, 0.3, 0.4, 0.1, 0.05] if c.is_ward else [0.35, 0.25, 0.22, 0.12, 0.06]
    return uses + pick(rng, fields, probs, n_agr)


GENERATOR = SampleGenerator(build)
