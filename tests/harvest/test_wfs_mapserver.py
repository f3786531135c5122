"""Harvesting a WFS 2.0 feature type from a real MapServer (``mapserv`` as CGI on 127.0.0.1):
GetCapabilities, DescribeFeatureType and GetFeature paged by STARTINDEX/COUNT as GDAL sends
them, one type served in WGS 84 and one in VN-2000 (EPSG:9205), Vietnamese names kept in NFC."""

from __future__ import annotations

import subprocess
import sys
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from harvest import declarations, run, sources

HERE = Path(__file__).parent
COUNT = 23
PAGE = 7
NAMES = [f"Trường Phổ thông Dân tộc Bán trú Số {n} xã Mường Tè" for n in range(COUNT)]
# MapServer answers in its map's CRS: one map (one service) per CRS, as departments publish.
MAPFILE = """MAP
  NAME "so_gd"
  EXTENT {extent}
  PROJECTION "init=epsg:{srid}" END
  WEB METADATA
    "wfs_title" "Sở Giáo dục và Đào tạo"
    "wfs_srs" "EPSG:{srid}"
    "wfs_enable_request" "*"
    "wfs_encoding" "UTF-8"
  END END
  LAYER NAME "{name}" TYPE POINT STATUS ON
    CONNECTIONTYPE OGR CONNECTION "{gpkg}" DATA "{name}"
    PROJECTION "init=epsg:{srid}" END
    METADATA "wfs_title" "Trường học" "gml_include_items" "all" "gml_featureid" "ma"
      "gml_types" "auto" END
  END
END
"""
SERVICES = {"wgs84": ("truong", 4326, "102 21 104.5 23"),
            "vn2000": ("truong_vn2000", 9205, "300000 2300000 700000 2600000")}


@pytest.fixture(scope="module")
def places(engine) -> list[tuple[float, float]]:  # noqa: ANN001
    """A point inside each of the first communes (cycled), so every school lies in the province."""
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM communes "
            "ORDER BY code LIMIT 8) s").all()
    return [(round(rows[n % len(rows)][0] + n * 1e-5, 6), round(rows[n % len(rows)][1], 6))
            for n in range(COUNT)]


@pytest.fixture(scope="module")
def wfs(places, tmp_path_factory) -> Iterator[tuple[str, Path]]:  # noqa: ANN001
    """MapServer serving ``truong`` (EPSG:4326) and ``truong_vn2000`` (EPSG:9205) from a
    GeoPackage; its URL and the log of the query strings it received."""
    import geopandas as gpd
    import shapely

    folder = tmp_path_factory.mktemp("mapserver")
    gpkg = folder / "so_gd.gpkg"
    frame = gpd.GeoDataFrame({"ma": [f"GD-{n:03d}" for n in range(COUNT)], "ten": NAMES,
                              "hoc_sinh": [100 + n for n in range(COUNT)], "cap": "primary"},
                             geometry=[shapely.Point(x, y) for x, y in places], crs=4326)
    frame.to_file(gpkg, layer="truong", driver="GPKG")
    frame.to_crs(9205).to_file(gpkg, layer="truong_vn2000", driver="GPKG")
    served = []
    for path, (name, srid, extent) in SERVICES.items():
        (folder / f"{path}.map").write_text(
            MAPFILE.format(name=name, srid=srid, extent=extent, gpkg=gpkg), encoding="utf-8")
        (folder / f"{path}.conf").write_text(
            f'CONFIG\n  ENV\n    MS_MAPFILE "{folder / f"{path}.map"}"\n  END\nEND\n',
            encoding="utf-8")
        served.append(f"/wfs/{path}={folder / f'{path}.conf'}")
    port_file, log = folder / "port", folder / "requests.log"
    log.touch()
    process = subprocess.Popen([sys.executable, str(HERE / "mapserver_cgi.py"), str(port_file),
                                str(log), *served])
    try:
        deadline = time.monotonic() + 30
        while not port_file.exists():
            assert process.poll() is None and time.monotonic() < deadline, "no CGI server"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port_file.read_text()}/wfs", log
    finally:
        process.terminate()
        process.wait(timeout=30)


def _requests(log: Path, path: str) -> list[dict[str, str]]:
    lines = (line.split(" ", 1) for line in log.read_text().splitlines())
    return [{k.upper(): v for k, v in parse_qsl(query)} for at, query in lines if at == path]


def _harvested(engine, dataset: str) -> dict[str, tuple]:  # noqa: ANN001
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT source_key, name, students, ST_X(geom), ST_Y(geom) FROM schools "
            "WHERE source_dataset = %(d)s", {"d": dataset}).all()
    return {r[0]: tuple(r[1:]) for r in rows}


def _declare(engine, name: str, url: str, type_name: str) -> declarations.Declaration:  # noqa: ANN001
    decl = declarations.from_dict({
        "name": name, "layer": "schools", "kind": "wfs", "url": url, "type_name": type_name,
        "key": "ma", "page_size": PAGE, "mapping": {"name": "ten", "students": "hoc_sinh", "level": "cap"}})
    with engine.begin() as conn:
        sources.put(conn, decl, "test")
    return decl


def test_a_wfs_feature_type_paged_in_wgs84(engine, wfs, places) -> None:  # noqa: ANN001
    url, log = wfs
    decl = _declare(engine, "ms-truong", url + "/wgs84", "ms:truong")
    first = run.run_source(engine, decl.name, "test")
    assert (first["status"], first["features"]) == ("imported", COUNT), first.get("error_en")
    assert first["added"] == COUNT
    asked = _requests(log, "/wfs/wgs84")
    kinds = {r.get("REQUEST") for r in asked}
    assert {"GetCapabilities", "DescribeFeatureType", "GetFeature"} <= kinds
    pages = sorted({int(r["STARTINDEX"]) for r in asked
                    if r.get("REQUEST") == "GetFeature" and "STARTINDEX" in r})
    assert pages == list(range(0, COUNT, PAGE))
    assert all(r["COUNT"] == str(PAGE) for r in asked if "STARTINDEX" in r)
    got = _harvested(engine, decl.dataset)
    for n, (x, y) in enumerate(places):
        name, students, gx, gy = got[f"GD-{n:03d}"]
        assert name == NAMES[n] and unicodedata.is_normalized("NFC", name)
        assert students == 100 + n
        assert abs(gx - x) < 1e-7 and abs(gy - y) < 1e-7

    log.write_text("")
    again = run.run_source(engine, decl.name, "test")
    assert (again["status"], again["added"], again["changed"], again["removed"]) == \
        ("unchanged", 0, 0, 0)


def test_a_wfs_feature_type_served_in_vn2000(engine, wfs, places) -> None:  # noqa: ANN001
    import httpx
    from pyproj import Geod

    url, log = wfs
    capabilities = httpx.get(url + "/vn2000", params={"SERVICE": "WFS", "REQUEST": "GetCapabilities",
                                                      "VERSION": "2.0.0"}).text
    assert "<DefaultCRS>urn:ogc:def:crs:EPSG::9205</DefaultCRS>" in capabilities
    decl = _declare(engine, "ms-truong-vn2000", url + "/vn2000", "ms:truong_vn2000")
    first = run.run_source(engine, decl.name, "test")
    assert (first["status"], first["added"]) == ("imported", COUNT), first.get("error_en")
    asked = _requests(log, "/wfs/vn2000")
    assert any(r.get("REQUEST") == "DescribeFeatureType" for r in asked)
    pages = sorted({int(r["STARTINDEX"]) for r in asked if "STARTINDEX" in r})
    assert pages == list(range(0, COUNT, PAGE))
    got = _harvested(engine, decl.dataset)
    geod = Geod(ellps="WGS84")
    for n, (x, y) in enumerate(places):
        name, _, gx, gy = got[f"GD-{n:03d}"]
        assert name == NAMES[n]
        # Projected to VN-2000 by the department and back to WGS 84 by the import: within 5 cm.
        assert geod.inv(x, y, gx, gy)[2] < 0.05
