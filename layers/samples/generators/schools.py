"""Sample schools of every level, at least a preschool and a primary school per commune."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import shapely

from layers.samples.draw import pick, scaled, vintage
from layers.samples.generator import SampleGenerator
from layers.samples.names import unique
from layers.samples.reference import CAPITAL, ICT
from layers.samples.table import Table
from layers.samples.world import World


def build(world: World) -> Table:
    """Schools of every level; each commune has at least a preschool and a primary school."""
    rng = world.rng("schools")
    table = Table("schools")
    taken: set[str] = set()
    rows: list[dict[str, Any]] = []
    central = world.towns.get(CAPITAL)
    for c in world.communes:
        pop = c.population
        bases = [c.name] + [v.base for v in c.villages[1:] if v.base]
        base_village = {v.base: i for i, v in enumerate(c.villages) if v.base}
        if c.is_ward:
            bases = [c.name] + [p.split(" ", 1)[1] for p in c.props["predecessor_names"]
                                if p.split(" ", 1)[1] != c.name] + bases[1:]
        remote = c.hardship >= 1.5 and not c.is_ward
        plan: list[tuple[str, str, float]] = []  # (level, name prefix, students mean)
        counts = {
            "preschool": (max(1, round(pop / 3500)), 1),
            "primary": (max(1, round(pop / 4300)), 1),
            "lower_secondary": (max(1, round(pop / 9000)), 0),
            "multi_level": (0 if c.is_ward else round(pop / 16000), 0),
        }
        for level, (base_n, minimum) in counts.items():
            n = max(minimum, round(base_n * world.scale))
            per_school = {"preschool": 0.058, "primary": 0.095, "lower_secondary": 0.07,
                          "multi_level": 0.05}[level] * pop / max(base_n, 1)
            for _ in range(n):
                boarding = remote and rng.random() < 0.5
                prefix = {
                    "preschool": "Trường Mầm non",
                    "primary": "Trường PTDTBT Tiểu học" if boarding else "Trường Tiểu học",
                    "lower_secondary": "Trường PTDTBT THCS" if boarding else "Trường THCS",
                    "multi_level": "Trường PTDTBT Tiểu học và THCS",
                }[level]
                plan.append((level, prefix, per_school))
        upper: list[str] = []
        if c.town and c.town != CAPITAL:
            upper = [f"Trường THPT {c.town}"]
            plan.append(("multi_level",
                         f"Trường Phổ thông Dân tộc Nội trú THCS và THPT {c.town}", 420.0))
        elif c is central:
            upper = ["Trường THPT Chuyên Lê Quý Đôn", "Trường THPT Thành phố Lai Châu",
                     "Trường Phổ thông Dân tộc Nội trú tỉnh Lai Châu"]
        elif pop > 16000 and not c.is_ward:
            upper = [f"Trường THPT {c.name}"]
        keep = scaled(len(upper), world.scale)
        for name in upper[:keep]:
            plan.append(("upper_secondary", name, 700.0))

        used: dict[str, int] = {}
        for level, prefix, mean in plan:
            if prefix.startswith(("Trường THPT", "Trường Phổ thông")):
                name, vi = unique(prefix, taken), 0
            else:
                k = used.get(prefix, 0)
                used[prefix] = k + 1
                base = bases[k % len(bases)]
                vi = base_village.get(base, int(rng.integers(len(c.villages))))
                name, number = f"{prefix} {base}", 2
                while name in taken:
                    name = f"{prefix} số {number} {base}"
                    number += 1
                taken.add(name)
            xy = world.near(rng, c, c.villages[vi].xy, 40.0, 250.0)[0]
            students = int(max(25, mean * rng.lognormal(0, 0.25)))
            capacity = int(students * rng.uniform(0.92, 1.35))
            per_room = 25 if level == "preschool" else 32
            building = pick(rng, ["permanent", "semi_permanent", "temporary"],
                            [0.82, 0.13, 0.05] if level != "preschool" else [0.72, 0.18, 0.10],
                            1)[0]
            rows.append(dict(geom=shapely.Point(xy), name=name, level=level,
                             students=students, capacity=capacity,
                             classrooms=max(1, math.ceil(capacity / per_room)),
                             building_type=building, commune_code=c.code))
    created, updated = vintage(rng, len(rows), datetime(2024, 9, 5, 8, 0, tzinfo=ICT))
    for row, cr, up in zip(rows, created, updated, strict=True):
        table.add(row.pop("geom"), created_at=cr, updated_at=up, **row)
    return table


GENERATOR = SampleGenerator(build)
