"""Sample power lines from the substations down to the villages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from layers.samples.draw import vintage
from layers.samples.generator import SampleGenerator
from layers.samples.geometry import wiggle
from layers.samples.reference import ICT, POWER_OPERATOR
from layers.samples.table import Table
from layers.samples.world import Commune, World

# 110 kV lines: (from town, to town, communes passed).
_LINES_110KV = (
    ("Lai Châu", "Tam Đường", ("Tân Phong", "Tả Lèng", "Bình Lư")),
    ("Lai Châu", "Phong Thổ", ("Đoàn Kết", "Phong Thổ")),
    ("Lai Châu", "Sìn Hồ", ("Tân Phong", "Nậm Tăm", "Sìn Hồ")),
    ("Sìn Hồ", "Nậm Nhùn", ("Sìn Hồ", "Lê Lợi", "Nậm Hàng")),
    ("Nậm Nhùn", "Mường Tè", ("Nậm Hàng", "Mường Mô", "Bum Tở")),
    ("Tam Đường", "Tân Uyên", ("Bình Lư", "Bản Bo", "Mường Khoa", "Tân Uyên")),
    ("Tân Uyên", "Than Uyên", ("Tân Uyên", "Pắc Ta", "Mường Than", "Than Uyên")),
)


def build(world: World) -> Table:
    """110 kV between substations, 35/22 kV feeders to every commune and to villages,
    0.4 kV inside villages."""
    rng = world.rng("power")
    table = Table("power_lines")
    rows: list[tuple[BaseGeometry, dict[str, Any]]] = []
    for a, b, via in _LINES_110KV:
        if a not in world.substations or b not in world.substations:
            continue
        inner = [world.by_name[n].centre + rng.normal(0, 900.0, 2)
                 for n in via[1:-1] if n in world.by_name]
        pts = np.array([world.substations[a], *inner, world.substations[b]])
        line = shapely.LineString(wiggle(rng, pts, amp=0.02, step=250.0))
        for c, piece in world.split_by_commune(line):
            rows.append((piece, dict(name=f"Đường dây 110 kV {a} – {b}", voltage_kv=110.0,
                                     kind="overhead", operator=POWER_OPERATOR,
                                     commune_code=c.code)))
    # Feeders: breadth-first from the substation communes over shared boundaries.
    fed = {c.index: world.substations[c.town] for c in world.communes
           if c.town in world.substations}
    queue = sorted(fed)
    while queue:
        nxt = []
        for i in queue:
            parent = world.communes[i]
            for j in sorted(world.tree.query(parent.inner, predicate="dwithin",
                                             distance=5.0).tolist()):
                if j in fed:
                    continue
                child = world.communes[j]
                start = fed[i]
                fed[j] = child.centre
                nxt.append(j)
                kv = 22.0 if child.is_ward else 35.0
                line = shapely.LineString(wiggle(rng, np.array([start, child.centre]),
                                                 amp=0.04, step=200.0))
                for c, piece in world.split_by_commune(line):
                    rows.append((piece, dict(
                        name=f"Đường dây {kv:g} kV {parent.name} – {child.name}",
                        voltage_kv=kv, kind="overhead", operator=POWER_OPERATOR,
                        commune_code=c.code)))
        queue = sorted(nxt)
    local: list[tuple[Commune, BaseGeometry, dict[str, Any]]] = []
    for c in world.communes:
        kv = 22.0 if c.is_ward else 35.0
        if c.town in world.substations:
            line = shapely.LineString(wiggle(rng, np.array([world.substations[c.town],
                                                            c.centre]), amp=0.03))
            local.append((c, line, dict(name=f"Đường dây {kv:g} kV lộ ra trạm 110 kV {c.town}",
                                        voltage_kv=kv, kind="overhead",
                                        operator=POWER_OPERATOR, commune_code=c.code)))
        for v in c.villages[1:]:
            if rng.random() > 0.55 or not world.keep(rng):
                continue
            parent = c.villages[v.parent]
            line = shapely.LineString(wiggle(rng, np.array([parent.xy, v.xy]), amp=0.04,
                                             step=150.0))
            local.append((c, line, dict(name=f"Nhánh rẽ {kv:g} kV {v.lower}", voltage_kv=kv,
                                        kind="overhead", operator=POWER_OPERATOR,
                                        commune_code=c.code)))
        for v in c.villages:
            urban = v.base is None
            for _ in range(int(rng.integers(1, 3))):
                if not world.keep(rng):
                    continue
                end = world.near(rng, c, v.xy, 120.0, 420.0)[0]
                line = shapely.LineString(wiggle(rng, np.array([v.xy, end]), amp=0.05,
                                                 step=40.0))
                local.append((c, line, dict(
                    name=f"Đường dây 0,4 kV {v.lower}", voltage_kv=0.4,
                    kind="underground" if urban and rng.random() < 0.3 else "overhead",
                    operator=POWER_OPERATOR, commune_code=c.code)))
    rows.extend(world.fit_local(local))
    created, updated = vintage(rng, len(rows), datetime(2024, 4, 1, 8, 0, tzinfo=ICT))
    for (geom, values), cr, up in zip(rows, created, updated, strict=True):
        table.add(geom, created_at=cr, updated_at=up, **values)
    return table


GENERATOR = SampleGenerator(build, after=("stations",))
