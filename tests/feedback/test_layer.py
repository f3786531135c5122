"""The public layer ``feedback_points``: a view of the cases served like every layer (OGC API,
tiles, exports) with rounded positions and nothing about the reporter; read-only."""

from __future__ import annotations

import io
import json
import zipfile

import mapbox_vector_tile
import psycopg2
import pytest

from tests.api.test_tiles import tile_of
from tests.feedback.conftest import EMAIL, ID_NUMBER, NAME, PHONE

SECRETS = (NAME, PHONE, EMAIL, ID_NUMBER)


@pytest.fixture(scope="module")
def reported(client, spot):
    lat, lon, _, _ = spot
    ids = []
    for code in ("road_damage", "denunciation"):
        response = client.post("/api/v1/feedback/requests", data={
            "service_code": code, "description": f"Phản ánh {NAME} gọi {PHONE}", "lat": str(lat),
            "lon": str(lon), "name": NAME, "phone": PHONE, "email": EMAIL, "id_number": ID_NUMBER})
        assert response.status_code == 201, response.text
        ids.append(int(response.json()["service_request_id"]))
    return ids


def test_items_are_rounded_and_anonymous(client, reported, spot):
    lat, lon, _, _ = spot
    ordinary, sensitive = reported
    items = client.get("/ogc/collections/feedback_points/items?f=json&limit=1000")
    assert items.status_code == 200, items.text
    features = {f["id"]: f for f in items.json()["features"]}
    assert features[ordinary]["properties"]["service_code"] == "road_damage"
    assert features[ordinary]["geometry"]["coordinates"] == [round(lon, 3), round(lat, 3)]
    assert features[sensitive]["geometry"]["coordinates"] == [round(lon, 2), round(lat, 2)]
    assert set(features[ordinary]["properties"]) <= {
        "service_code", "status", "commune_code", "department", "result", "requested_at", "due_on"}
    for secret in SECRETS:
        assert secret not in items.text
    one = client.get(f"/ogc/collections/feedback_points/items/{ordinary}?f=json")
    assert one.status_code == 200 and NAME not in one.text
    # The name and phone typed into the description are not published with it either.
    [published] = client.get(f"/open311/v2/requests/{ordinary}.json").json()
    assert published["description"] == "Phản ánh [đã ẩn] gọi [đã ẩn]"


def test_tiles_and_exports_carry_no_identity(client, reported, spot):
    lat, lon, _, _ = spot
    x, y = tile_of(lon, lat, 12)
    response = client.get(f"/tiles/feedback_points/12/{x}/{y}.mvt")
    assert response.status_code == 200
    layer = mapbox_vector_tile.decode(response.content)["feedback_points"]
    assert {f["properties"]["service_code"] for f in layer["features"]} >= {"road_damage"}
    exported = client.get("/api/v1/layers/feedback_points/export?format=geojson")
    assert exported.status_code == 200, exported.text
    body = exported.content
    if body[:2] == b"PK":
        body = b"".join(zipfile.ZipFile(io.BytesIO(body)).read(n) for n in
                        zipfile.ZipFile(io.BytesIO(body)).namelist())
    assert len(json.loads(body)["features"]) >= 2
    for secret in SECRETS:
        assert secret.encode() not in body and secret not in response.content.decode("latin-1")


def test_status_changes_reach_tiles_and_counts(client, reported, spot, staff, database_url):
    lat, lon, _, _ = spot
    ordinary, _ = reported
    x, y = tile_of(lon, lat, 12)
    url = f"/tiles/feedback_points/12/{x}/{y}.mvt"
    client.get(url)
    forwarded = client.post(f"/api/v1/feedback/cases/{ordinary}/forward", headers=staff("operator"),
                            json={"department": "so_xay_dung"})
    assert forwarded.status_code == 200, forwarded.text
    layer = mapbox_vector_tile.decode(client.get(url).content)["feedback_points"]
    statuses = {f["properties"]["status"] for f in layer["features"]}
    assert "forwarded" in statuses
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT n = (SELECT count(*) FROM feedback_requests) FROM feature_counts "
                    "WHERE layer = 'feedback_points'")
        assert cur.fetchone() == (True,)


def test_the_layer_is_read_only(client, staff, spot):
    lat, lon, _, _ = spot
    feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
               "properties": {"service_code": "waste", "status": "closed", "department": "so_nn_mt",
                              "requested_at": "2026-01-01T00:00:00Z", "due_on": "2026-01-15"}}
    response = client.post("/ogc/collections/feedback_points/items", json=feature,
                           headers={**staff("operator"), "Content-Type": "application/geo+json"})
    assert response.status_code == 403, response.text
