"""Vector tiles decoded with mapbox-vector-tile: content, bounds, cache and invalidation."""

import math

import mapbox_vector_tile
import psycopg2
import pytest

from layers.registry import LAYERS, get_layer
from tests.auth.conftest import communes, people, tokens  # noqa: F401
from tiles.mvt import Tile, render_tile

MVT = "application/vnd.mapbox-vector-tile"


def tile_of(lon, lat, z):
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


@pytest.fixture(scope="module")
def signed(tokens):  # noqa: F811
    """A signed-in caller: households are points for staff, counts per commune for the public."""
    return {"Authorization": f"Bearer {tokens['viewer1']}"}


@pytest.fixture(scope="module")
def house(database_url):
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT id, ST_X(geom), ST_Y(geom) FROM housing ORDER BY id LIMIT 1")
        return cur.fetchone()


def test_a_housing_tile_carries_public_properties_only(client, house, signed):
    _, lon, lat = house
    x, y = tile_of(lon, lat, 14)
    response = client.get(f"/tiles/housing/14/{x}/{y}.mvt", headers=signed)
    assert response.status_code == 200
    assert response.headers["content-type"] == MVT
    decoded = mapbox_vector_tile.decode(response.content)
    features = decoded["housing"]["features"]
    assert features
    allowed = set(get_layer("housing").tiles.properties)
    for feature in features:
        assert set(feature["properties"]) <= allowed
        assert feature["geometry"]["type"] == "Point"


def test_no_tile_property_is_personal():
    for layer in LAYERS:
        for name in layer.tiles.properties:
            assert layer.field(name).sensitivity == "public"


def test_ogc_tile_path_is_row_then_column(client, house, signed):
    _, lon, lat = house
    x, y = tile_of(lon, lat, 14)
    xyz = client.get(f"/tiles/housing/14/{x}/{y}.mvt", headers=signed)
    ogc = client.get(f"/ogc/collections/housing/tiles/WebMercatorQuad/14/{y}/{x}", headers=signed)
    assert ogc.status_code == 200 and ogc.content == xyz.content


def test_empty_tile_is_204(client, signed):
    x, y = tile_of(-150.0, -40.0, 10)
    assert client.get(f"/tiles/housing/10/{x}/{y}.mvt", headers=signed).status_code == 204
    assert client.get(f"/tiles/schools/10/{x}/{y}.mvt").status_code == 204


@pytest.mark.parametrize(("url", "status"), [
    ("/tiles/housing/23/0/0.mvt", 400),
    ("/tiles/housing/3/8/0.mvt", 404),
    ("/tiles/housing/3/0/-1.mvt", 404),
    ("/tiles/nowhere/3/0/0.mvt", 404),
    ("/tiles/housing/a/0/0.mvt", 422),
])
def test_bad_tiles_are_4xx_problems(client, url, status):
    response = client.get(url)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"


def test_etag_revalidation(client, house, signed):
    _, lon, lat = house
    x, y = tile_of(lon, lat, 13)
    first = client.get(f"/tiles/housing/13/{x}/{y}.mvt", headers=signed)
    again = client.get(f"/tiles/housing/13/{x}/{y}.mvt",
                       headers={**signed, "if-none-match": first.headers["etag"]})
    assert again.status_code == 304


def test_an_edit_replaces_the_cached_tile(client, house, database_url):
    fid, lon, lat = house
    x, y = tile_of(lon, lat, 15)
    url = f"/tiles/schools/15/{x}/{y}.mvt"
    before = client.get(url)
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO schools (geom, name, level, commune_code) VALUES "
                    "(ST_SetSRID(ST_MakePoint(%s, %s), 4326), 'Trường Tiểu học Thử nghiệm', "
                    "'primary', '03388') RETURNING id", (lon, lat))
        new_id = cur.fetchone()[0]
    try:
        after = client.get(url)
        assert after.status_code == 200
        names = [f["properties"].get("name")
                 for f in mapbox_vector_tile.decode(after.content)["schools"]["features"]]
        assert "Trường Tiểu học Thử nghiệm" in names
        assert before.headers.get("etag") != after.headers["etag"]
    finally:
        with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
            cur.execute("DELETE FROM schools WHERE id = %s", (new_id,))
    gone = client.get(url)
    if gone.status_code == 200:
        names = [f["properties"].get("name")
                 for f in mapbox_vector_tile.decode(gone.content)["schools"]["features"]]
        assert "Trường Tiểu học Thử nghiệm" not in names


def test_a_dense_point_tile_becomes_clusters_that_count_every_point(database_url, house):
    _, lon, lat = house
    x, y = tile_of(lon, lat, 9)
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        rendered = render_tile(cur, get_layer("housing"), Tile(9, x, y), cap=50)
        n = 2**9
        west, east = x / n * 360 - 180, (x + 1) / n * 360 - 180
        north = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / n))))
        south = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * (y + 1) / n))))
        cur.execute("SELECT count(*) FROM housing WHERE geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326)",
                    (west, south, east, north))
        inside = cur.fetchone()[0]
    assert rendered.clustered
    clusters = mapbox_vector_tile.decode(rendered.data)["housing"]["features"]
    assert sum(f["properties"]["point_count"] for f in clusters) == inside


def test_tilejson_and_tileset_metadata(client):
    tj = client.get("/tiles/housing.json").json()
    assert tj["tilejson"] == "3.0.0" and tj["tiles"][0].endswith("/tiles/housing/{z}/{x}/{y}.mvt")
    assert "head_of_household" not in tj["vector_layers"][0]["fields"]
    meta = client.get("/ogc/collections/housing/tiles/WebMercatorQuad").json()
    templates = [link["href"] for link in meta["links"] if link["rel"] == "item"]
    assert templates[0].endswith("/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}")
    assert client.get("/ogc/collections/housing/tiles").json()["tilesets"]


def test_a_combined_tile_holds_each_layer(client, house, signed):
    _, lon, lat = house
    x, y = tile_of(lon, lat, 12)
    combined = client.get(f"/tiles/communes,roads,housing/12/{x}/{y}.mvt", headers=signed)
    assert combined.status_code == 200
    decoded = mapbox_vector_tile.decode(combined.content)
    assert {"communes", "housing"} <= set(decoded)
    alone = mapbox_vector_tile.decode(
        client.get(f"/tiles/housing/12/{x}/{y}.mvt", headers=signed).content)
    assert len(decoded["housing"]["features"]) == len(alone["housing"]["features"])
    assert client.get(f"/tiles/communes,nowhere/12/{x}/{y}.mvt").status_code == 404


def test_a_combined_tile_leaves_out_layers_below_their_minimum_zoom(client, house, signed):
    _, lon, lat = house
    x, y = tile_of(lon, lat, 12)
    assert get_layer("housing").tiles.minzoom <= 12 < get_layer("trees").tiles.minzoom
    combined = mapbox_vector_tile.decode(
        client.get(f"/tiles/housing,trees/12/{x}/{y}.mvt", headers=signed).content)
    assert "housing" in combined and "trees" not in combined
    x, y = tile_of(lon, lat, 8)
    assert client.get(f"/tiles/trees,land_parcels/8/{x}/{y}.mvt").status_code == 204


def test_the_public_sees_no_household_points_in_tiles(client, house, signed):
    _, lon, lat = house
    x, y = tile_of(lon, lat, 14)
    alone = client.get(f"/tiles/housing/14/{x}/{y}.mvt")
    assert alone.status_code == 401
    assert alone.headers["content-type"] == "application/problem+json"
    assert "/api/v1/layers/housing/summary" in alone.json()["detail"]
    public = mapbox_vector_tile.decode(client.get(f"/tiles/communes,housing/14/{x}/{y}.mvt").content)
    staff = mapbox_vector_tile.decode(
        client.get(f"/tiles/communes,housing/14/{x}/{y}.mvt", headers=signed).content)
    assert set(public) == {"communes"} and set(staff) == {"communes", "housing"}
