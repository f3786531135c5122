"""Sample stations: substations, bus stations and water plants."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import shapely

from layers.samples.draw import vintage
from layers.samples.generator import SampleGenerator
from layers.samples.reference import CAPITAL, ICT, POWER_OPERATOR, WATER_OPERATOR
from layers.samples.table import Table
from layers.samples.world import Commune, World


def build(world: World) -> Table:
    """Power substations, bus stations and water plants of the towns; rural water plants."""
    rng = world.rng("stations")
    table = Table("stations")
    rows: list[tuple[Commune, np.ndarray, dict[str, Any]]] = []
    capital = world.towns.get(CAPITAL)
    other_ward = next((c for c in world.communes if c.is_ward and c is not capital), capital)
    if other_ward is not None:
        xy = world.near(rng, other_ward, other_ward.centre, 2000.0, 5000.0)[0]
        rows.append((other_ward, xy, dict(name="Trạm biến áp 220 kV Lai Châu",
                                          kind="power_substation", capacity=250.0,
                                          capacity_unit="MVA", operator=POWER_OPERATOR)))
    for town, c in world.towns.items():
        xy = world.near(rng, c, c.centre, 800.0, 2500.0)[0]
        world.substations[town] = xy
        rows.append((c, xy, dict(name=f"Trạm biến áp 110 kV {town}", kind="power_substation",
                                 capacity=float(rng.choice([25.0, 40.0, 50.0, 63.0])),
                                 capacity_unit="MVA", operator=POWER_OPERATOR)))
    for town, c in world.towns.items():
        xy = world.near(rng, c, c.centre, 300.0, 900.0)[0]
        big = town == CAPITAL
        rows.append((c, xy, dict(
            name="Bến xe khách tỉnh Lai Châu" if big else f"Bến xe khách {town}",
            kind="bus_station", capacity=float(220 if big else rng.integers(30, 90)),
            capacity_unit="lượt xe/ngày", operator="Công ty Cổ phần Bến xe Lai Châu")))
    for town, c in world.towns.items():
        xy = world.near(rng, c, c.centre, 1000.0, 3000.0)[0]
        world.water_sources[c.code] = xy
        rows.append((c, xy, dict(
            name=f"Nhà máy nước {town}", kind="water_plant",
            capacity=float(15000 if town == CAPITAL else int(rng.integers(15, 41)) * 100),
            capacity_unit="m³/ngày đêm", operator=WATER_OPERATOR)))
    for c in world.communes:
        if c.town or c.is_ward:
            continue
        xy = world.near(rng, c, c.centre, 1000.0, 3000.0)[0]
        world.water_sources[c.code] = xy
        rows.append((c, xy, dict(
            name=f"Trạm cấp nước sinh hoạt xã {c.name}", kind="water_plant",
            capacity=float(int(rng.integers(3, 13)) * 50), capacity_unit="m³/ngày đêm",
            operator=f"Ủy ban nhân dân xã {c.name}")))
    for c in world.communes:  # wards without a plant draw from the capital's
        if c.is_ward and c.code not in world.water_sources and capital is not None:
            world.water_sources[c.code] = world.water_sources[capital.code]
    created, updated = vintage(rng, len(rows), datetime(2024, 1, 15, 8, 0, tzinfo=ICT))
    for (c, xy, values), cr, up in zip(rows, created, updated, strict=True):
        table.add(shapely.Point(xy), commune_code=c.code, created_at=cr, updated_at=up,
                  **values)
    return table


GENERATOR = SampleGenerator(build)
