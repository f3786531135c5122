"""The engine's answers against an independent computation (geopandas, shapely, pyproj) on the
same sample data, for every kind of selection."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from pyproj import CRS, Transformer
from shapely.geometry import Point, box, mapping

from scenarios.registry import require_scenario
from tests.scenarios.conftest import geodesic_m

CENTRE = (103.46, 22.40)  # Tân Phong / Đoàn Kết, the provincial capital


def _run(cursor, scenario_id: str, **params):
    return require_scenario(cursor, scenario_id).run(cursor, params).result


def _by_group(result, indicator: str) -> dict:
    return {g["key"]: next(r for r in g["indicators"] if r["id"] == indicator)
            for g in result["groups"]}


def _whole(result, indicator: str) -> dict:
    (group,) = result["groups"]
    return next(r for r in group["indicators"] if r["id"] == indicator)


def test_province_by_commune_matches_pandas(cursor, frames):
    result = _run(cursor, "sector_social_welfare")
    got = _by_group(result, "poor_household_rate")
    housing = frames["housing"]
    expected = housing.groupby("commune_code").apply(
        lambda h: 100 * (h.poverty_status == "poor").sum() / len(h), include_groups=False)
    assert len(got) == 38
    for code, value in expected.items():
        assert got[code]["value"] == pytest.approx(value, abs=1e-3), code


def test_far_from_health_matches_geodesic_distances(cursor, frames):
    result = _run(cursor, "sector_health", indicators=["households_far_from_health_rate"])
    got = _by_group(result, "households_far_from_health_rate")
    housing, health = frames["housing"], frames["health"]
    nearest = np.full(len(housing), np.inf)
    for fx, fy in zip(health.geometry.x, health.geometry.y, strict=True):
        nearest = np.minimum(nearest, geodesic_m(fx, fy, housing.geometry))
    far = housing.assign(far=nearest > 5000).groupby("commune_code")["far"].sum()
    assert far.sum() > 0  # the sample has remote villages
    for code, count in far.items():
        assert got[code]["numerator"] == count, code


def test_communes_by_name_with_or_without_diacritics(cursor, frames):
    result = _run(cursor, "sector_social_welfare",
                  selection={"type": "communes", "names": ["Đoàn Kết", "xa binh lu"]})
    assert [g["key"] for g in result["groups"]] == ["03388", "03390"]
    housing = frames["housing"]
    for code, r in _by_group(result, "temporary_house_rate").items():
        h = housing[housing.commune_code == code]
        assert r["numerator"] == (h.house_type == "temporary").sum()
        assert r["denominator"] == len(h)


def test_point_finds_its_commune_and_nearest_facilities(cursor, frames):
    lon, lat = 103.30, 22.45
    result = _run(cursor, "sector_education", selection={"type": "point", "lon": lon, "lat": lat})
    communes = frames["communes"]
    inside = communes[communes.contains(Point(lon, lat))]
    assert [g["key"] for g in result["groups"]] == list(inside.code)
    health = frames["health"]
    order = np.argsort(geodesic_m(lon, lat, health.geometry))[:3]
    nearest = result["nearest"]["health_facilities"]
    assert [f["id"] for f in nearest] == list(health.id.iloc[order])
    expected = geodesic_m(lon, lat, health.geometry)[order]
    assert [f["distance_m"] for f in nearest] == pytest.approx(list(expected), abs=0.2)


def test_radius_is_geodesic(cursor, frames):
    lon, lat = CENTRE
    radius = 5000
    result = _run(cursor, "sector_social_welfare", group_by="none",
                  selection={"type": "radius", "lon": lon, "lat": lat, "radius_m": radius})
    housing = frames["housing"]
    within = housing[geodesic_m(lon, lat, housing.geometry) <= radius]
    poor = _whole(result, "poor_household_rate")
    assert poor["denominator"] == len(within) > 0
    assert poor["numerator"] == (within.poverty_status == "poor").sum()
    # A degree-based radius would be a different set: the test would notice.
    planar = np.hypot(housing.geometry.x - lon, housing.geometry.y - lat)
    degrees = housing[planar <= radius / 111_320]
    assert len(degrees) != len(within)


def test_radius_clips_road_lengths(cursor, frames):
    lon, lat = CENTRE
    radius = 3000
    result = _run(cursor, "sector_transport", group_by="none",
                  selection={"type": "radius", "lon": lon, "lat": lat, "radius_m": radius})
    local = CRS.from_proj4(f"+proj=aeqd +lat_0={lat} +lon_0={lon} +ellps=WGS84 +units=m")
    roads = frames["roads"].to_crs(local)
    circle = Point(0, 0).buffer(radius, quad_segs=64)
    clipped = roads.intersection(circle)
    paved = roads.surface.isin(["asphalt", "concrete"])
    share = _whole(result, "paved_road_share")
    assert share["denominator"] == pytest.approx(clipped.length.sum() / 1000, rel=5e-3)
    assert share["numerator"] == pytest.approx(clipped[paved].length.sum() / 1000, rel=5e-3)


def test_polygon_in_vn2000(cursor, frames):
    to_vn = Transformer.from_crs(4326, 9205, always_xy=True)
    x, y = to_vn.transform(*CENTRE)
    square = box(x - 2500, y - 2000, x + 3000, y + 2500)
    result = _run(cursor, "sector_social_welfare", group_by="none",
                  selection={"type": "polygon", "geometry": mapping(square), "crs": "EPSG:9205"})
    to_wgs = Transformer.from_crs(9205, 4326, always_xy=True)
    area = shapely.transform(square, lambda xy: np.column_stack(to_wgs.transform(xy[:, 0], xy[:, 1])))
    housing = frames["housing"]
    inside = housing[housing.intersects(area)]
    temporary = _whole(result, "temporary_house_rate")
    assert temporary["denominator"] == len(inside) > 0
    assert temporary["numerator"] == (inside.house_type == "temporary").sum()


def test_province_total_matches_sum(cursor, frames):
    result = _run(cursor, "sector_education", group_by="none")
    schools, housing = frames["schools"], frames["housing"]
    places = _whole(result, "school_places_per_1000_children")
    assert places["numerator"] == schools.capacity.sum()
    expected = 1000 * schools.capacity.sum() / (0.29 * housing.members.sum())
    assert places["value"] == pytest.approx(expected, rel=1e-6)
    assert math.isfinite(places["value"])
