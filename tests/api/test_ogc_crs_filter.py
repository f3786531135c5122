"""OGC API - Features Part 2 (CRS) and Part 3 (queryables, CQL2, sortby, properties)."""

import json
from urllib.parse import quote

import pytest
from pyproj import Transformer

JSON = {"accept": "application/json"}
EPSG = "http://www.opengis.net/def/crs/EPSG/0/{}"


def _items(client, query, layer="schools"):
    response = client.get(f"/ogc/collections/{layer}/items?{query}", headers=JSON)
    assert response.status_code == 200, response.text
    return response


def _by_id(body):
    return {f["id"]: f["geometry"]["coordinates"] for f in body["features"]}


@pytest.mark.parametrize("srid", [9205, 9208, 3857])
def test_projected_output_matches_pyproj_to_the_centimetre(client, srid):
    wgs = _by_id(_items(client, "limit=50").json())
    response = _items(client, f"limit=50&crs={quote(EPSG.format(srid))}")
    assert response.headers["content-crs"] == f"<{EPSG.format(srid)}>"
    projected = _by_id(response.json())
    to = Transformer.from_crs("EPSG:4326", f"EPSG:{srid}", always_xy=True)
    for fid, (lon, lat) in wgs.items():
        x, y = to.transform(lon, lat)
        assert abs(projected[fid][0] - x) < 0.01 and abs(projected[fid][1] - y) < 0.01


def test_epsg_4326_is_latitude_first(client):
    crs84 = _by_id(_items(client, "limit=5").json())
    latlon = _by_id(_items(client, f"limit=5&crs={quote(EPSG.format(4326))}").json())
    for fid, (lon, lat) in crs84.items():
        assert latlon[fid] == [lat, lon]


def test_bbox_in_vn2000_selects_the_same_features_as_its_crs84_envelope(client):
    to = Transformer.from_crs("EPSG:4326", "EPSG:9205", always_xy=True)
    x0, y0 = to.transform(103.3, 22.3)
    x1, y1 = to.transform(103.6, 22.5)
    vn = _items(client, f"limit=1000&bbox={x0},{y0},{x1},{y1}&bbox-crs=EPSG:9205").json()
    assert vn["numberMatched"] > 0
    back = Transformer.from_crs("EPSG:9205", "EPSG:4326", always_xy=True)
    for feature in vn["features"]:
        x, y = to.transform(*feature["geometry"]["coordinates"])
        assert x0 - 1 <= x <= x1 + 1 and y0 - 1 <= y <= y1 + 1, back.transform(x, y)


def test_bbox_filter(client):
    everything = _items(client, "limit=1").json()["numberMatched"]
    some = _items(client, "limit=1&bbox=103.3,22.3,103.6,22.5").json()["numberMatched"]
    assert 0 < some < everything


def test_queryables_hide_personal_fields(client):
    body = client.get("/ogc/collections/housing/queryables", headers=JSON).json()
    assert "poverty_status" in body["properties"]
    assert "head_of_household" not in body["properties"]
    assert "citizen_id" not in body["properties"]


def test_cql2_text_attribute_filter(client):
    body = _items(client, "limit=1000&filter=" + quote("level = 'primary' AND students > 100"))
    features = body.json()["features"]
    assert features
    assert all(f["properties"]["level"] == "primary" and f["properties"]["students"] > 100
               for f in features)


def test_cql2_json_filter(client):
    expr = {"op": "=", "args": [{"property": "level"}, "preschool"]}
    body = _items(client, "limit=1000&filter-lang=cql2-json&filter=" + quote(json.dumps(expr)))
    features = body.json()["features"]
    assert features and all(f["properties"]["level"] == "preschool" for f in features)


def test_spatial_filter_with_a_commune_polygon(client, samples_dir):
    communes = json.loads((samples_dir / "communes.geojson").read_text(encoding="utf-8"))
    from shapely.geometry import shape

    unit = next(f for f in communes["features"] if f["properties"]["code"] == "03388")
    polygon = shape(unit["geometry"]).geoms[0].simplify(0.001)
    expr = f"S_INTERSECTS(geom, {polygon.wkt})"
    body = _items(client, "limit=1000&filter=" + quote(expr), "health_facilities").json()
    assert body["numberMatched"] >= 1
    codes = {f["properties"]["commune_code"] for f in body["features"]}
    assert "03388" in codes


def test_sortby_and_properties(client):
    body = _items(client, "limit=20&sortby=-students&properties=name,students").json()
    students = [f["properties"]["students"] for f in body["features"]]
    assert students == sorted(students, reverse=True)
    assert all(set(f["properties"]) == {"name", "students"} for f in body["features"])


def test_property_equality_parameter(client):
    body = _items(client, "limit=1000&level=upper_secondary").json()
    assert body["features"]
    assert {f["properties"]["level"] for f in body["features"]} == {"upper_secondary"}


def test_skip_geometry(client):
    body = _items(client, "limit=3&skipGeometry=true").json()
    assert all(f["geometry"] is None for f in body["features"])
