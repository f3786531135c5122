"""GDAL's OGC API driver finds the vector tiles from a collection and reads them end to end.

The client is the OGCAPI driver of the GDAL that pyogrio's wheel carries (3.12; Debian's
gdal-bin 3.6 has no vector path in that driver). It asks for the collection, follows its
``tilesets-vector`` link, the tileset's ``self`` link, the ``tiling-scheme`` link (TMS 2.0) and
the tileset's ``tileMatrixSetLimits``, then fetches the tiles of each zoom level through the
templated ``item`` link. The driver takes the collection's bounding box as coordinates of the
tile matrix set, so it is given the province in EPSG:3857 (its MINX…MAXY open options). It runs
in a process of its own, as a client does (the live server answers from this one).
"""

import json
import subprocess
import sys

import psycopg2
import pytest
from pyproj import Transformer

from layers.ogc import PROVINCE_BBOX

TILESETS = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"


@pytest.fixture(scope="module")
def extent_3857():
    to_3857 = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    west, south, east, north = to_3857.transform_bounds(*PROVINCE_BBOX)
    return {"API": "TILES", "MINX": str(west), "MINY": str(south), "MAXX": str(east),
            "MAXY": str(north)}


_READ = """
import json, sys
import pyogrio
url, layer, options, headers = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4]
if headers:
    pyogrio.set_gdal_config_options({"GDAL_HTTP_HEADERS": headers})
if "bbox" in options:
    options["bbox"] = tuple(options["bbox"])
frame = pyogrio.read_dataframe(url, layer=layer, **options)
print(json.dumps({"columns": list(frame.columns), "rows": [
    [int(r.mvt_id), getattr(r, "name", None), r.geometry.x, r.geometry.y]
    for r in frame.itertuples()]}))
"""


def gdal_read(url, layer, options, headers=""):
    """Features GDAL's OGCAPI driver reads from ``url`` (columns, [id, name, x, y] rows)."""
    result = subprocess.run([sys.executable, "-c", _READ, url, layer, json.dumps(options),
                             headers], capture_output=True, text=True, timeout=300, check=False)
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-2000:])
    return json.loads(result.stdout)


def test_tiles_are_declared_and_linked(client, settings):
    base = f"{settings.base_url}/ogc"
    conformance = client.get("/ogc/conformance?f=json").json()["conformsTo"]
    for name in ("core", "tileset", "tilesets-list", "geodata-tilesets", "dataset-tilesets", "mvt"):
        assert f"http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/{name}" in conformance
    landing = client.get("/ogc/?f=json").json()["links"]
    assert {"rel": TILESETS, "href": f"{base}/tiles"}.items() <= next(
        link for link in landing if link["rel"] == TILESETS).items()
    for layer in ("schools", "housing", "communes"):
        links = client.get(f"/ogc/collections/{layer}?f=json").json()["links"]
        assert any(link["rel"] == TILESETS and link["type"] == "application/json"
                   and link["href"] == f"{base}/collections/{layer}/tiles" for link in links)
    tms = client.get("/ogc/tileMatrixSets/WebMercatorQuad").json()
    assert tms["crs"] == "http://www.opengis.net/def/crs/EPSG/0/3857"
    assert [m["matrixWidth"] for m in tms["tileMatrices"][:3]] == [1, 2, 4]
    assert client.get("/ogc/tileMatrixSets/WorldCRS84Quad").status_code == 404


def test_dataset_tileset_serves_every_layer_the_caller_may_see(client, settings):
    tileset = client.get("/ogc/tiles/WebMercatorQuad").json()
    assert {layer["id"] for layer in tileset["layers"]} >= {"communes", "schools", "housing"}
    item = next(link for link in tileset["links"] if link["rel"] == "item")["href"]
    assert item == (f"{settings.base_url}/ogc/tiles/WebMercatorQuad/"
                    "{tileMatrix}/{tileRow}/{tileCol}")
    limits = {lim["tileMatrix"]: lim for lim in tileset["tileMatrixSetLimits"]}
    z12 = limits["12"]
    tile = client.get(f"/ogc/tiles/WebMercatorQuad/12/{z12['minTileRow'] + 3}/"
                      f"{z12['minTileCol'] + 3}?collections=communes,housing")
    assert tile.status_code == 200
    import mapbox_vector_tile

    names = set(mapbox_vector_tile.decode(tile.content))
    assert names == {"communes"}  # households are not for anonymous callers


def test_gdal_reads_a_layer_from_its_vector_tiles(live_url, database_url, extent_3857):
    url = f"OGCAPI:{live_url}/ogc/collections/schools"
    tiles = gdal_read(url, "Zoom level 10", extent_3857)
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT id, name, ST_X(ST_Transform(geom, 3857)), ST_Y(ST_Transform(geom, 3857)) "
                    "FROM schools")
        schools = {row[0]: row[1:] for row in cur.fetchall()}
    # A point on a tile's edge comes in both tiles (the MVT buffer); every school comes.
    assert {row[0] for row in tiles["rows"]} == set(schools)
    assert set(tiles["columns"]) == {"mvt_id", "name", "level", "students", "geometry"}
    pixel = 40075016.69 / 2**10 / 4096
    for feature_id, name, x, y in tiles["rows"]:
        assert name == schools[feature_id][0]
        assert abs(x - schools[feature_id][1]) <= pixel and abs(y - schools[feature_id][2]) <= pixel


def test_layers_about_people_stay_closed_to_anonymous_gdal(live_url, database_url, extent_3857,
                                                           reader):
    url = f"OGCAPI:{live_url}/ogc/collections/housing"
    with pytest.raises(RuntimeError, match="401"):
        gdal_read(url, "Zoom level 14", {**extent_3857, "max_features": 5})
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT ST_X(ST_Transform(geom, 3857)), ST_Y(ST_Transform(geom, 3857)) "
                    "FROM housing ORDER BY id LIMIT 1")
        x, y = cur.fetchone()
        cur.execute("SELECT id FROM housing")
        households = {row[0] for row in cur.fetchall()}
    tiles = gdal_read(url, "Zoom level 14",
                      {**extent_3857, "bbox": [x - 500, y - 500, x + 500, y + 500]},
                      f"X-API-Key: {reader['X-API-Key']}")
    assert tiles["rows"] and {row[0] for row in tiles["rows"]} <= households
    assert not {"head_of_household", "citizen_id"} & set(tiles["columns"])
