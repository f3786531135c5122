"""Sample roads: national and provincial routes, ward streets, commune and village roads."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import shapely
from numpy.random import Generator
from shapely.geometry.base import BaseGeometry

from layers.samples.draw import pick, vintage
from layers.samples.generator import SampleGenerator
from layers.samples.geometry import linear, wiggle
from layers.samples.reference import CAPITAL, ICT
from layers.samples.table import Table
from layers.samples.world import Commune, World, major_edges

_STREETS = (
    "Đại lộ Lê Lợi", "Đường Trần Hưng Đạo", "Đường Võ Nguyên Giáp", "Đường Nguyễn Văn Linh",
    "Đường Trường Chinh", "Đường 30 Tháng 4", "Đường Điện Biên Phủ", "Đường Hoàng Văn Thái",
    "Đường Nguyễn Chí Thanh", "Đường Lê Duẩn", "Đường Trần Phú", "Đường Hoàng Quốc Việt",
    "Đường Phan Đình Giót", "Đường Tô Vĩnh Diện", "Đường Lý Thường Kiệt", "Đường Ngô Quyền",
    "Đường Hùng Vương", "Đường Nguyễn Trãi", "Đường Lê Thánh Tông", "Đường Bế Văn Đàn",
    "Đường Trần Quốc Toản", "Đường Chu Văn An", "Đường Kim Đồng", "Đường Tôn Đức Thắng",
    "Đường Phạm Văn Đồng", "Đường Nguyễn Lương Bằng", "Đường Lò Văn Giá", "Đường Vừ A Dính",
)
# Trunk roads as sequences of commune names whose centres they link (neighbours in order).
_NATIONAL_ROADS = (
    ("Quốc lộ 4D", ("Phong Thổ", "Đoàn Kết", "Tân Phong", "Tả Lèng", "Bình Lư")),
    ("Quốc lộ 12", ("Phong Thổ", "Pa Tần", "Lê Lợi", "Nậm Hàng")),
    ("Quốc lộ 32", ("Bình Lư", "Bản Bo", "Mường Khoa", "Tân Uyên", "Pắc Ta", "Mường Than",
                    "Than Uyên")),
    ("Quốc lộ 279", ("Than Uyên", "Mường Kim", "Khoen On")),
    ("Quốc lộ 4H", ("Nậm Hàng", "Mường Mô", "Bum Tở", "Mường Tè", "Thu Lũm")),
)
_PROVINCIAL_ROADS = (
    ("Tỉnh lộ 127", ("Nậm Hàng", "Hua Bum", "Bum Nưa", "Pa Ủ")),
    ("Tỉnh lộ 128", ("Sìn Hồ", "Tủa Sín Chải", "Lê Lợi")),
    ("Tỉnh lộ 129", ("Tân Phong", "Nậm Tăm", "Sìn Hồ")),
    ("Tỉnh lộ 130", ("Đoàn Kết", "Hồng Thu", "Sìn Hồ")),
    ("Tỉnh lộ 132", ("Tân Phong", "Khun Há", "Pu Sam Cáp")),
    ("Tỉnh lộ 133", ("Nậm Tăm", "Nậm Mạ", "Nậm Cuổi", "Nậm Sỏ", "Mường Kim")),
    ("Tỉnh lộ 134", ("Mường Tè", "Mù Cả")),
    ("Tỉnh lộ 135", ("Bum Tở", "Tà Tổng")),
    ("Tỉnh lộ 136", ("Tả Lèng", "Sin Suối Hồ", "Khổng Lào", "Dào San", "Sì Lở Lầu")),
)


def build(world: World) -> Table:
    """National and provincial roads between commune centres, ward streets, commune and
    village roads within the communes."""
    rng = world.rng("roads")
    table = Table("roads")
    rows: list[tuple[BaseGeometry, dict[str, Any]]] = []
    for routes, road_class in ((_NATIONAL_ROADS, "national"),
                               (_PROVINCIAL_ROADS, "provincial")):
        for name, stops in routes:
            found = [world.by_name[s] for s in stops if s in world.by_name]
            if len(found) < 2:
                continue
            line = shapely.LineString(wiggle(rng, np.array([c.centre for c in found]),
                                             amp=0.09, detail=170.0))
            width = round(float(rng.uniform(7.0, 9.0) if road_class == "national"
                                else rng.uniform(5.5, 7.5)), 1)
            surface = "asphalt" if road_class == "national" or rng.random() < 0.8 \
                else "concrete"
            for c, piece in world.split_by_commune(line):
                rows.append((piece, dict(name=name, road_class=road_class, surface=surface,
                                         width_m=width, commune_code=c.code)))
    rows.extend(_ward_streets(world, rng))
    local: list[tuple[Commune, BaseGeometry, dict[str, Any]]] = []
    for c in world.communes:
        major = major_edges(c)
        for j, v in enumerate(c.villages[1:], start=1):
            if not world.keep(rng):
                continue
            parent = c.villages[v.parent]
            if j in major:
                road_class = "commune"
                name = f"Đường {c.unit} {c.name} – {v.lower}"
                surface = pick(rng, ["concrete", "asphalt", "gravel", "earth"],
                               [0.55, 0.2, 0.2, 0.05], 1)[0]
                width = round(float(rng.uniform(3.5, 5.5)), 1)
            else:
                road_class = "village"
                name = f"Đường {parent.lower} – {v.lower}"
                surface = pick(rng, ["concrete", "gravel", "earth"], [0.45, 0.25, 0.3], 1)[0]
                width = round(float(rng.uniform(2.5, 3.5)), 1)
            coords = wiggle(rng, np.array([parent.xy, v.xy]), amp=0.1, detail=70.0)
            local.append((c, shapely.LineString(coords), dict(
                name=name, road_class=road_class, surface=surface, width_m=width,
                commune_code=c.code)))
        for v in c.villages:
            if v.base is None:
                continue
            for _ in range(int(rng.integers(2, 5))):
                if not world.keep(rng):
                    continue
                end = world.near(rng, c, v.xy, 200.0, 750.0)[0]
                coords = wiggle(rng, np.array([v.xy, end]), amp=0.08, step=40.0)
                local.append((c, shapely.LineString(coords), dict(
                    name=f"Đường nội {v.lower}", road_class="village",
                    surface=pick(rng, ["concrete", "gravel", "earth"], [0.6, 0.2, 0.2],
                                 1)[0],
                    width_m=round(float(rng.uniform(2.0, 3.0)), 1), commune_code=c.code)))
    rows.extend(world.fit_local(local))
    created, updated = vintage(rng, len(rows), datetime(2024, 3, 1, 8, 0, tzinfo=ICT))
    for (geom, values), cr, up in zip(rows, created, updated, strict=True):
        table.add(geom, created_at=cr, updated_at=up, **values)
    return table


def _ward_streets(world: World, rng: Generator) -> list[tuple[BaseGeometry, dict[str, Any]]]:
    """A loose grid of named streets around the provincial capital, cut by ward."""
    capital = world.towns.get(CAPITAL)
    if capital is None:
        return []
    wards = [c for c in world.communes if c.is_ward]
    angle = rng.uniform(0, np.pi / 2)
    axes = [np.array([np.cos(angle), np.sin(angle)]),
            np.array([-np.sin(angle), np.cos(angle)])]
    rows = []
    names = list(_STREETS)
    half = len(names) // 2
    for k, name in enumerate(names):
        along, across = axes[k % 2], axes[(k + 1) % 2]
        idx = k // 2 - half // 2
        offset = idx * rng.uniform(260.0, 380.0)
        length = rng.uniform(1200.0, 3600.0) * (1.6 if k < 2 else 1.0)
        shift = rng.uniform(-400.0, 400.0)
        mid = capital.centre + across * offset + along * shift
        ends = np.array([mid - along * length / 2, mid + along * length / 2])
        line = shapely.LineString(wiggle(rng, ends, amp=0.015, step=60.0))
        world.streets.append((name, line))
        width = 48.0 if name.startswith("Đại lộ") else round(float(rng.uniform(7.0, 21.0)), 1)
        surface = "asphalt" if rng.random() < 0.9 else "concrete"
        for c in wards:
            clipped = linear(shapely.intersection(line, c.inner), 30.0)
            if clipped is not None:
                rows.append((clipped, dict(name=name, road_class="urban", surface=surface,
                                           width_m=width, commune_code=c.code)))
    return rows


GENERATOR = SampleGenerator(build)
