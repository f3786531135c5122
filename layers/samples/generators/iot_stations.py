"""Sample IoT stations: cameras, rain gauges, water-level and air-quality sensors."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np
import shapely

from layers.samples.draw import pick, scaled
from layers.samples.generator import SampleGenerator
from layers.samples.names import unique
from layers.samples.reference import CAPITAL_DISTRICT, ICT, REFERENCE_TIME
from layers.samples.table import Table
from layers.samples.world import Commune, World


def build(world: World) -> Table:
    """Cameras in the wards, rain gauges and water-level sensors across the province,
    a few air-quality monitors."""
    rng = world.rng("iot")
    table = Table("iot_stations")
    taken: set[str] = set()
    rows: list[tuple[Commune, np.ndarray, dict[str, Any]]] = []
    wards = [c for c in world.communes if c.is_ward]
    if world.streets and wards:
        for k in range(scaled(60, world.scale, 1)):
            name, line = world.streets[int(rng.integers(len(world.streets)))]
            for _ in range(20):
                xy = np.array(line.interpolate(rng.random(), normalized=True).coords[0])
                c = next((w for w in wards if shapely.contains_xy(w.inner, *xy)), None)
                if c is not None:
                    rows.append((c, xy, dict(name=unique(f"Camera {k + 1:03d} – {name}",
                                                         taken), kind="camera")))
                    break
    n_rain = scaled(60, world.scale, 1)
    order = rng.permutation(len(world.communes))
    for k in range(n_rain):
        c = world.communes[int(order[k % len(order)])]
        v = c.villages[int(rng.integers(len(c.villages)))]
        xy = world.near(rng, c, v.xy, 50.0, 300.0)[0]
        rows.append((c, xy, dict(name=unique(f"Trạm đo mưa {v.lower}, {c.unit} {c.name}",
                                             taken), kind="rain_gauge")))
    for k in range(scaled(35, world.scale, 1)):
        c = world.communes[int(order[(k * 7 + 3) % len(order)])]
        river = _river(c)
        xy = world.near(rng, c, c.villages[int(rng.integers(len(c.villages)))].xy, 200.0,
                        1500.0)[0]
        rows.append((c, xy, dict(name=unique(f"Trạm đo mực nước {river}, {c.unit} {c.name}",
                                             taken), kind="water_level")))
    air = [c for c in wards] + [c for c in world.communes if c.town == "Than Uyên"]
    for k in range(scaled(5, world.scale, 1)):
        if not air:
            break
        c = air[k % len(air)]
        xy = world.near(rng, c, c.centre, 100.0, 1500.0)[0]
        rows.append((c, xy, dict(
            name=unique(f"Trạm quan trắc không khí tự động {c.unit} {c.name}", taken),
            kind="air_quality")))
    for c, xy, values in rows:
        status = pick(rng, ["online", "offline", "maintenance"], [0.88, 0.07, 0.05], 1)[0]
        if status == "online":
            ago = timedelta(minutes=float(rng.uniform(0.5, 12)))
        elif status == "offline":
            ago = timedelta(hours=float(rng.uniform(2, 96)))
        else:
            ago = timedelta(days=float(rng.uniform(1, 12)))
        last = (REFERENCE_TIME - ago).replace(microsecond=0)
        kind = values["kind"]
        value, unit = {
            "camera": (None, None),
            "rain_gauge": (round(float(rng.gamma(0.6, 6.0)), 1), "mm"),
            "water_level": (round(float(rng.uniform(0.4, 6.5)), 2), "m"),
            "air_quality": (round(float(rng.uniform(8, 55)), 1), "µg/m³"),
        }[kind]
        installed = datetime(2023, 6, 1, 8, 0, tzinfo=ICT) + timedelta(
            days=int(rng.integers(0, 700)))
        table.add(shapely.Point(xy), status=status, last_reading_at=last, last_value=value,
                  unit=unit, commune_code=c.code, created_at=min(installed, last),
                  updated_at=last, **values)
    return table


def _river(c: Commune) -> str:
    if c.name.startswith("Nậm "):
        return f"suối {c.name}"
    district = (c.districts or [CAPITAL_DISTRICT])[0]
    return {
        "Thành phố Lai Châu": "suối Nậm Lỏong", "Huyện Tam Đường": "suối Nậm Lùm",
        "Huyện Phong Thổ": "sông Nậm Na", "Huyện Sìn Hồ": "suối Nậm Tăm",
        "Huyện Mường Tè": "sông Đà", "Huyện Nậm Nhùn": "sông Nậm Na",
        "Huyện Than Uyên": "sông Nậm Mu", "Huyện Tân Uyên": "suối Nậm Sỏ",
    }.get(district, "sông Đà")


GENERATOR = SampleGenerator(build, after=("roads",))
