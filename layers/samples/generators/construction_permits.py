"""Sample construction permits for house plots."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np

from layers.samples.draw import pick, scaled
from layers.samples.generator import SampleGenerator
from layers.samples.geometry import GEOD, to_lonlat
from layers.samples.names import GROUPS, citizen_ids, people
from layers.samples.reference import ICT, REFERENCE_TIME
from layers.samples.table import Table
from layers.samples.world import World


def build(world: World) -> Table:
    """Permits for house plots, most in the wards and former district towns."""
    rng = world.rng("permits")
    table = Table("construction_permits")
    plots = [p for p in world.parcels if p["use"] in ("ONT", "ODT")]
    if not plots:
        return table
    weight = np.array([6.0 if p["commune"].is_ward else 2.0 if p["commune"].town else 1.0
                       for p in plots])
    n = min(len(plots), scaled(700, world.scale, 1))
    chosen = np.sort(rng.choice(len(plots), size=n, replace=False, p=weight / weight.sum()))
    first = date(2019, 1, 1)
    days = rng.integers(0, (date(2025, 11, 15) - first).days, size=n)
    order = np.lexsort((chosen, days))
    male = rng.random(n) < 0.7
    groups = np.array([int(rng.choice(len(GROUPS), p=plots[i]["commune"].mix))
                       for i in chosen.tolist()])
    names = people(rng, groups, male)
    ids = citizen_ids(rng, male, rng.integers(1955, 2000, size=n), world.citizen_ids)
    per_year: dict[int, int] = {}
    for k in order.tolist():
        p = plots[int(chosen[k])]
        day = first + timedelta(days=int(days[k]))
        per_year[day.year] = per_year.get(day.year, 0) + 1
        age = (REFERENCE_TIME.date() - day).days
        if rng.random() < 0.03:
            status = "revoked"
        elif age > 730:
            status = "completed" if rng.random() < 0.85 else "under_construction"
        elif age > 365:
            status = pick(rng, ["completed", "under_construction", "issued"],
                          [0.5, 0.45, 0.05], 1)[0]
        else:
            status = pick(rng, ["issued", "under_construction", "completed"],
                          [0.45, 0.45, 0.1], 1)[0]
        urban = p["commune"].is_ward
        floors = int(min(9, 1 + rng.geometric(0.45 if urban else 0.75)))
        footprint = abs(float(GEOD.geometry_area_perimeter(to_lonlat(p["poly"]))[0]))
        issued = datetime(day.year, day.month, day.day, 14, 0, tzinfo=ICT)
        table.add(
            p["poly"].centroid,
            permit_number=f"{per_year[day.year]:03d}/{day.year}/GPXD",
            permit_date=day, applicant_name=names[k], applicant_id_number=ids[k],
            map_sheet=p["sheet"], parcel_number=p["number"], floors=floors,
            floor_area_m2=round(floors * footprint * float(rng.uniform(0.4, 0.75)), 1),
            status=status, commune_code=p["commune"].code, created_at=issued,
            updated_at=issued if status == "issued" else min(
                REFERENCE_TIME, issued + timedelta(days=int(rng.integers(30, 700)))),
        )
    return table


GENERATOR = SampleGenerator(build, after=("land_parcels", "housing"))
