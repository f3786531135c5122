"""Raster layers: the synthetic terrain COG, its PNG tiles, terrain per commune, ``ioc raster add``."""

import json
import math
import subprocess
import sys
import warnings

import numpy as np
import psycopg2
import pytest
import rasterio
from rasterio.errors import NotGeoreferencedWarning
from rasterio.features import geometry_mask
from rasterio.io import MemoryFile

from tiles.raster import decode_terrain_rgb, ensure_terrain, validate_cog


def tile_of(lon, lat, z):
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


@pytest.fixture(scope="module")
def terrain(settings, samples_dir):
    return ensure_terrain(settings.var_dir, samples_dir / "province.geojson")


def png(content):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)  # a PNG has no georeference
        with MemoryFile(content) as memory, memory.open() as img:
            return img.read()


def test_the_terrain_is_a_labelled_synthetic_cog_with_the_provinces_relief(terrain):
    info = validate_cog(terrain)
    assert info["overviews"]
    with rasterio.open(terrain) as src:
        assert src.tags()["SYNTHETIC"] == "yes" and "SYNTHETIC" in src.tags()["DESCRIPTION"]
        dem = src.read(1, masked=True)
        half_h, half_w = dem.shape[0] // 2, dem.shape[1] // 2
        north_west, south_east = dem[:half_h, :half_w], dem[half_h:, half_w:]
    assert 2800 <= north_west.max() <= 3150
    assert 250 <= dem.min() and np.percentile(dem.compressed(), 10) < 900
    assert north_west.mean() > south_east.mean()


def test_hillshade_tiles_draw_relief_and_empty_tiles_are_204(client, terrain):
    x, y = tile_of(102.8, 22.4, 10)
    response = client.get(f"/tiles/raster/terrain/hillshade/10/{x}/{y}.png")
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    bands = png(response.content)
    assert bands.shape == (4, 256, 256)
    grey, alpha = bands[0][bands[3] > 0], bands[3]
    assert (alpha > 0).mean() > 0.5 and grey.std() > 10  # shaded, not flat
    again = client.get(f"/tiles/raster/terrain/hillshade/10/{x}/{y}.png",
                       headers={"if-none-match": response.headers["etag"]})
    assert again.status_code == 304
    x, y = tile_of(-40.0, 10.0, 10)
    assert client.get(f"/tiles/raster/terrain/hillshade/10/{x}/{y}.png").status_code == 204


def test_terrain_rgb_decodes_to_the_rasters_elevation(client, terrain):
    lon, lat, z = 102.9, 22.35, 12
    x, y = tile_of(lon, lat, z)
    bands = png(client.get(f"/tiles/raster/terrain/terrain-rgb/{z}/{x}/{y}.png").content)
    n = 2**z
    col = int(((lon + 180) / 360 * n - x) * 256)
    row = int(((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n - y) * 256)
    decoded = decode_terrain_rgb(*(int(b) for b in bands[:3, row, col]))
    with rasterio.open(terrain) as src:
        expected = next(src.sample([(lon, lat)]))[0]
    assert decoded == pytest.approx(expected, abs=60)  # bilinear resampling on a ~200 m grid


def test_tilejson_and_errors(client, terrain):
    doc = client.get("/tiles/raster/terrain/terrain-rgb.json").json()
    assert doc["encoding"] == "mapbox" and doc["tiles"][0].endswith("/terrain-rgb/{z}/{x}/{y}.png")
    assert "terrain" in [r["name"] for r in client.get("/api/v1/rasters").json()["rasters"]]
    for url in ("/tiles/raster/nowhere/hillshade/5/25/14.png", "/tiles/raster/terrain/contours.json",
                "/tiles/raster/terrain/contours/5/25/14.png", "/tiles/raster/terrain/hillshade/5/99/0.png"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert response.headers["content-type"] == "application/problem+json"


def test_terrain_per_commune(client, terrain, database_url):
    rows = client.get("/api/v1/rasters/terrain/communes").json()
    assert len(rows) == 38
    by_code = {r["code"]: r for r in rows}
    for r in rows:
        assert 250 <= r["min_elevation_m"] <= r["mean_elevation_m"] <= r["max_elevation_m"] <= 3100
        assert 0 <= r["steep_share"] <= 1
    assert any(r["steep_share"] > 0.05 for r in rows)
    # One commune recomputed independently: the mean of the pixels whose centre lies inside.
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT code, ST_AsGeoJSON(geom) FROM communes ORDER BY area_km2 DESC LIMIT 1")
        code, geom = cur.fetchone()
    with rasterio.open(terrain) as src:
        dem = src.read(1, masked=True)
        outside = geometry_mask([json.loads(geom)], out_shape=dem.shape, transform=src.transform)
    mean = float(np.ma.masked_array(dem, mask=dem.mask | outside).mean())
    assert by_code[code]["mean_elevation_m"] == pytest.approx(mean, abs=1)


def ioc(*args, var_dir):
    return subprocess.run([sys.executable, "-m", "api.cli", "raster", *args], capture_output=True,
                          text=True, env={"IOC_VAR_DIR": str(var_dir), "PATH": "/usr/bin:/bin"})


def test_raster_add_accepts_a_cog_and_refuses_a_plain_geotiff(terrain, tmp_path):
    plain = tmp_path / "plain.tif"
    transform = rasterio.transform.from_origin(102, 23, 0.001, 0.001)
    with rasterio.open(plain, "w", driver="GTiff", width=1200, height=900, count=1, dtype="int16",
                       crs="EPSG:4326", transform=transform) as dst:
        dst.write(np.zeros((1, 900, 1200), dtype="int16"))
    refused = ioc("add", str(plain), var_dir=tmp_path / "var")
    assert refused.returncode == 1
    assert "COG" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "var" / "rasters" / "plain.tif").exists()
    added = ioc("add", str(terrain), "--name", "dem_survey", var_dir=tmp_path / "var")
    assert added.returncode == 0, added.stderr
    assert (tmp_path / "var" / "rasters" / "dem_survey.tif").is_file()
    assert ioc("list", var_dir=tmp_path / "var").stdout.split() == ["dem_survey"]
