"""Sample health facilities: a station per commune, hospitals, regional centres, clinics."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import shapely

from layers.samples.draw import pick, scaled, vintage
from layers.samples.generator import SampleGenerator
from layers.samples.reference import CAPITAL, ICT
from layers.samples.table import Table
from layers.samples.world import Commune, World

_PRIVATE_CLINICS = (
    "Phòng khám đa khoa An Phúc", "Phòng khám đa khoa Hồng Đức", "Phòng khám đa khoa Thiện Tâm",
    "Phòng khám chuyên khoa Răng Hàm Mặt Hoàng Long", "Phòng khám chuyên khoa Nhi Minh Anh",
    "Phòng khám đa khoa Sao Mai", "Phòng khám chuyên khoa Sản phụ khoa Tâm An",
    "Phòng khám đa khoa Việt Đức", "Phòng khám chuyên khoa Mắt Bình An",
    "Phòng khám đa khoa Phúc Lộc",
)


def build(world: World) -> Table:
    """One health station per commune, provincial hospitals, regional centres, clinics."""
    rng = world.rng("health")
    table = Table("health_facilities")
    rows: list[tuple[Commune, np.ndarray, dict[str, Any]]] = []
    for c in world.communes:
        xy = world.near(rng, c, c.centre, 80.0, 350.0)[0]
        rows.append((c, xy, dict(
            name=f"Trạm Y tế {c.unit} {c.name}", kind="commune_health_station",
            beds=int(rng.integers(4, 11)), doctors=int(rng.choice([0, 1, 1, 1, 2])),
            building_type=pick(rng, ["permanent", "semi_permanent"], [0.9, 0.1], 1)[0])))
    wards = [c for c in world.communes if c.is_ward]
    hospital_ward = (world.by_name.get("Tân Phong") or world.towns.get(CAPITAL)
                     or (wards or world.communes)[0])
    for name, beds, doctors in (("Bệnh viện Đa khoa tỉnh Lai Châu", 600, 165),
                                ("Bệnh viện Y dược cổ truyền tỉnh Lai Châu", 150, 38)):
        xy = world.near(rng, hospital_ward, hospital_ward.centre, 400.0, 1500.0)[0]
        rows.append((hospital_ward, xy, dict(name=name, kind="provincial_hospital",
                                             beds=beds, doctors=doctors,
                                             building_type="permanent")))
    for town, c in world.towns.items():
        if town == CAPITAL:
            continue
        xy = world.near(rng, c, c.centre, 200.0, 900.0)[0]
        rows.append((c, xy, dict(name=f"Trung tâm Y tế khu vực {town}", kind="health_centre",
                                 beds=int(rng.integers(80, 221)),
                                 doctors=int(rng.integers(18, 46)),
                                 building_type="permanent")))
    clinics: list[tuple[Commune, str, np.ndarray]] = []
    rural = sorted((c for c in world.communes if not c.is_ward and not c.town),
                   key=lambda c: -c.population)
    for c in rural[:8]:
        v = next((v for v in c.villages[1:] if v.base), c.villages[0])
        clinics.append((c, f"Phòng khám đa khoa khu vực {v.base}", v.xy))
    for i, name in enumerate(_PRIVATE_CLINICS):
        c = wards[i % len(wards)] if wards else world.communes[0]
        clinics.append((c, name, c.centre))
    keep = np.sort(rng.permutation(len(clinics))[:scaled(len(clinics), world.scale)])
    for i in keep.tolist():
        c, name, centre = clinics[i]
        xy = world.near(rng, c, centre, 100.0, 1200.0)[0]
        regional = name.startswith("Phòng khám đa khoa khu vực")
        rows.append((c, xy, dict(name=name, kind="clinic",
                                 beds=int(rng.integers(8, 21)) if regional
                                 else int(rng.integers(0, 5)),
                                 doctors=int(rng.integers(2, 6)),
                                 building_type="permanent")))
    created, updated = vintage(rng, len(rows), datetime(2024, 6, 1, 8, 0, tzinfo=ICT))
    for (c, xy, values), cr, up in zip(rows, created, updated, strict=True):
        table.add(shapely.Point(xy), commune_code=c.code, created_at=cr, updated_at=up,
                  **values)
    return table


GENERATOR = SampleGenerator(build)
