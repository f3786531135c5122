"""GDAL's OAPIF driver (what QGIS uses underneath) reads the collections end to end."""

import json
import shutil
import subprocess

import pytest

pytestmark = pytest.mark.skipif(shutil.which("ogrinfo") is None, reason="gdal-bin missing")


def _run(*args):
    result = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_ogrinfo_lists_the_layers(live_url):
    out = _run("ogrinfo", "-ro", "-q", f"OAPIF:{live_url}/ogc")
    for layer_id in ("communes", "housing", "schools", "roads", "iot_stations"):
        assert layer_id in out


def test_ogrinfo_reads_a_collection_with_its_fields(live_url):
    out = _run("ogrinfo", "-ro", "-so", f"OAPIF:{live_url}/ogc", "communes")
    assert "Feature Count: 38" in out
    assert "full_name" in out and "unit_type" in out


def test_ogr2ogr_copies_a_collection_and_keeps_vietnamese(live_url, tmp_path, samples_dir):
    target = tmp_path / "communes.geojson"
    _run("ogr2ogr", "-f", "GeoJSON", str(target), f"OAPIF:{live_url}/ogc", "communes")
    copied = json.loads(target.read_text(encoding="utf-8"))
    source = json.loads((samples_dir / "communes.geojson").read_text(encoding="utf-8"))
    assert len(copied["features"]) == 38
    assert ({f["properties"]["full_name"] for f in copied["features"]}
            == {f["properties"]["full_name"] for f in source["features"]})


def test_ogr2ogr_with_spatial_filter_reads_every_page(live_url, tmp_path, database_url, reader):
    import psycopg2

    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM housing WHERE geom && "
                    "ST_MakeEnvelope(103.3, 22.3, 103.6, 22.5, 4326)")
        expected = cur.fetchone()[0]
    target = tmp_path / "housing.gpkg"
    # Households are not public: GDAL sends the system client's key, as QGIS would.
    key = f"X-API-Key: {reader['X-API-Key']}"
    _run("ogr2ogr", "-f", "GPKG", str(target), f"OAPIF:{live_url}/ogc", "housing",
         "-spat", "103.3", "22.3", "103.6", "22.5", "-oo", "PAGE_SIZE=500",
         "--config", "GDAL_HTTP_HEADERS", key)
    out = _run("ogrinfo", "-ro", "-so", str(target), "housing")
    assert f"Feature Count: {expected}" in out
    assert "head_of_household" not in out and "citizen_id" not in out
