"""Sample water supply and drainage along the ward streets and at commune centres."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from layers.samples.draw import pick, vintage
from layers.samples.generator import SampleGenerator
from layers.samples.geometry import wiggle
from layers.samples.reference import ICT, WATER_OPERATOR
from layers.samples.table import Table
from layers.samples.world import Commune, World

_DRAINAGE_OPERATOR = "Ban Quản lý dự án đầu tư xây dựng các công trình dân dụng và công nghiệp"


def build(world: World) -> Table:
    """Supply and drainage along the ward streets; supply mains and drains at commune
    centres."""
    rng = world.rng("water")
    table = Table("water_network")
    local: list[tuple[Commune, BaseGeometry, dict[str, Any]]] = []
    wards = [c for c in world.communes if c.is_ward]
    for k, (_name, street) in enumerate(world.streets):
        main = k < 8
        supply = shapely.offset_curve(street, 6.0)
        drain = shapely.offset_curve(street, -6.0)
        for c in wards:
            if not world.keep(rng):
                continue
            local.append((c, supply, dict(
                kind="supply", diameter_mm=int(rng.choice([200, 250, 300])) if main
                else int(rng.choice([63, 90, 110, 160])),
                material=("steel" if rng.random() < 0.3 else "HDPE") if main
                else pick(rng, ["HDPE", "PVC"], [0.7, 0.3], 1)[0],
                operator=WATER_OPERATOR, commune_code=c.code)))
            local.append((c, drain, dict(
                kind="drainage", diameter_mm=int(rng.choice([400, 600, 800, 1000, 1200])),
                material="concrete", operator=_DRAINAGE_OPERATOR, commune_code=c.code)))
    for c in world.communes:
        source = world.water_sources.get(c.code)
        operator = WATER_OPERATOR if c.town or c.is_ward else f"Ủy ban nhân dân xã {c.name}"
        if source is not None and not c.is_ward:
            main = shapely.LineString(wiggle(rng, np.array([source, c.centre]), amp=0.08,
                                             step=80.0))
            local.append((c, main, dict(kind="supply",
                                        diameter_mm=int(rng.choice([110, 160, 200])),
                                        material="HDPE", operator=operator,
                                        commune_code=c.code)))
        for v in c.villages[1:]:
            d = float(np.hypot(*(v.xy - c.centre)))
            if d > (3500.0 if c.is_ward else 2500.0) or not world.keep(rng):
                continue
            line = shapely.LineString(wiggle(rng, np.array([c.centre, v.xy]), amp=0.06,
                                             step=80.0))
            local.append((c, line, dict(kind="supply",
                                        diameter_mm=int(rng.choice([50, 63, 75, 90])),
                                        material=pick(rng, ["HDPE", "PVC"], [0.6, 0.4],
                                                      1)[0],
                                        operator=operator, commune_code=c.code)))
        for _ in range(int(rng.integers(2, 5))):
            if not world.keep(rng):
                continue
            end = world.near(rng, c, c.centre, 300.0, 900.0)[0]
            line = shapely.LineString(wiggle(rng, np.array([c.centre, end]), amp=0.05,
                                             step=60.0))
            local.append((c, line, dict(kind="drainage",
                                        diameter_mm=int(rng.choice([300, 400, 600])),
                                        material="concrete", operator=operator,
                                        commune_code=c.code)))
    rows = world.fit_local(local)
    created, updated = vintage(rng, len(rows), datetime(2024, 5, 1, 8, 0, tzinfo=ICT))
    for (geom, values), cr, up in zip(rows, created, updated, strict=True):
        table.add(geom, created_at=cr, updated_at=up, **values)
    return table


GENERATOR = SampleGenerator(build, after=("stations", "roads"))
