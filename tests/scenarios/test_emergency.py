"""The emergency scenario against geodesic distances computed with pyproj on the same samples."""

from __future__ import annotations

import numpy as np
import pytest
from shapely.geometry import box, mapping

from gis_core.errors import InvalidParameterError, ValidationError
from scenarios import emergency
from tests.scenarios.conftest import geodesic_m

LON, LAT, RADIUS = 103.47, 22.39, 1500


def test_point_incident_reach(cursor, frames):
    outcome = emergency.SCENARIO.run(cursor, {"kind": "landslide", "lon": LON, "lat": LAT,
                                              "radius_m": RADIUS, "time": "2025-08-01T03:00:00+07:00"})
    result = outcome.result
    housing = frames["housing"]
    inside = housing[geodesic_m(LON, LAT, housing.geometry) <= RADIUS]
    affected = result["affected"]
    assert affected["households"] == len(inside) > 0
    assert affected["people"] == inside.members.sum()
    assert affected["poor_households"] == (inside.poverty_status == "poor").sum()
    assert affected["near_poor_households"] == (inside.poverty_status == "near_poor").sum()
    assert affected["temporary_houses"] == (inside.house_type == "temporary").sum()
    schools = frames["schools"]
    school_ids = set(schools.id[geodesic_m(LON, LAT, schools.geometry) <= RADIUS])
    assert {f["id"] for f in result["inside"]["schools"]} == school_ids
    # Nearest health facilities outside, by geodesic distance from the area's edge.
    health = frames["health"]
    dist = geodesic_m(LON, LAT, health.geometry)
    outside = np.sort(dist[dist > RADIUS])[:3] - RADIUS
    got = [f["properties"]["distance_m"] for f in result["outside"]["nearest_health_facilities"]]
    assert got == pytest.approx(list(outside), abs=0.2)
    assert all(f["properties"]["building_type"] == "permanent"
               for f in result["outside"]["safe_points"])
    geojson = outcome.geojson()
    assert geojson["features"][0]["properties"]["role"] == "area"
    assert geojson["features"][0]["geometry"]["type"] == "Polygon"


def test_polygon_incident_without_radius(cursor, frames):
    area = box(LON - 0.02, LAT - 0.015, LON + 0.02, LAT + 0.015)
    result = emergency.SCENARIO.run(cursor, {"kind": "flood", "geometry": mapping(area),
                                             "radius_m": 0}).result
    housing = frames["housing"]
    assert result["affected"]["households"] == housing.intersects(area).sum() > 0


@pytest.mark.parametrize("params, error", [
    ({"kind": "fire", "lon": LON, "lat": LAT, "radius_m": 0}, InvalidParameterError),
    ({"kind": "fire", "lon": 105.85, "lat": 21.03, "radius_m": 100}, InvalidParameterError),
    ({"kind": "fire", "radius_m": 100}, ValidationError),
    ({"kind": "volcano", "lon": LON, "lat": LAT}, ValidationError),
])
def test_bad_incidents(cursor, params, error):
    with pytest.raises(error):
        emergency.SCENARIO.run(cursor, params)
