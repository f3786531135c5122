"""Exports over HTTP and from the CLI, opened back with pyogrio, openpyxl and csv and checked."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path
from urllib.parse import quote

import psycopg2
import pyogrio
import pytest
from openpyxl import load_workbook
from pyproj import Transformer

from layers.export import shapefile_names
from layers.registry import get_layer

HOUSING = get_layer("housing")
HIDDEN = {f.name for f in HOUSING.fields if f.sensitivity != "public"}
PUBLIC = [f.name for f in HOUSING.public_fields]
TO_VN2000 = Transformer.from_crs("EPSG:4326", "EPSG:9205", always_xy=True)


@pytest.fixture(scope="module")
def households(database_url):
    """Every household as the database holds it: id → (lon, lat, village, secrets)."""
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT id, ST_X(geom), ST_Y(geom), village, head_of_household, citizen_id "
                    "FROM housing ORDER BY id")
        return {row[0]: row[1:] for row in cur.fetchall()}


@pytest.fixture()
def client(client, reader):
    """The session's client, signed in as a system client that sees public fields only: the
    public sees households only as counts per commune."""

    class Reader:
        def get(self, url, headers=None, **kwargs):
            return client.get(url, headers=reader if headers is None else headers, **kwargs)

    return Reader()


def _get(client, query: str, layer: str = "housing"):
    response = client.get(f"/api/v1/layers/{layer}/export?{query}")
    assert response.status_code == 200, response.text
    return response


def _check_vn2000(xy: dict[int, tuple[float, float]], households) -> None:
    """Each exported point is where pyproj puts the stored WGS 84 point, within 1 cm."""
    assert set(xy) == set(households)
    for fid, (x, y) in xy.items():
        lon, lat = households[fid][:2]
        ex, ny = TO_VN2000.transform(lon, lat)
        assert abs(x - ex) < 0.01 and abs(y - ny) < 0.01, (fid, x, y, ex, ny)


def _check_villages(villages: dict[int, str], households) -> None:
    assert villages == {fid: row[2] for fid, row in households.items()}
    assert any(not v.isascii() for v in villages.values())


def test_geopackage_in_vn2000(client, households, tmp_path):
    response = _get(client, "format=gpkg&crs=EPSG:9205")
    assert response.headers["content-type"] == "application/geopackage+sqlite3"
    assert response.headers["content-disposition"] == 'attachment; filename="housing_EPSG9205.gpkg"'
    path = tmp_path / "h.gpkg"
    path.write_bytes(response.content)
    info = pyogrio.read_info(path)
    assert info["crs"] == "EPSG:9205" and info["geometry_type"] == "Point"
    assert set(info["fields"]) == {"id", *PUBLIC}
    frame = pyogrio.read_dataframe(path)
    _check_vn2000({int(r.id): (r.geometry.x, r.geometry.y) for r in frame.itertuples()}, households)
    _check_villages(dict(zip(frame["id"].astype(int), frame["village"], strict=True)), households)


def test_shapefile_zip_has_prj_cpg_and_the_name_mapping(client, households, tmp_path):
    response = _get(client, "format=shp&crs=EPSG:9205")
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["content-disposition"].endswith('filename="housing_EPSG9205.zip"')
    path = tmp_path / "h.zip"
    path.write_bytes(response.content)
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        assert {f"housing.{ext}" for ext in ("shp", "shx", "dbf", "prj", "cpg")} <= names
        assert archive.read("housing.cpg").decode().strip() == "UTF-8"
        prj = archive.read("housing.prj").decode()
        assert "VN-2000" in prj.replace("_", "-") and "103" in prj
        mapping = list(csv.DictReader(io.StringIO(archive.read("housing_fields.csv").decode("utf-8-sig"))))
    assert {row["field"]: row["shapefile_field"] for row in mapping} == shapefile_names(["id", *PUBLIC])
    assert all(len(row["shapefile_field"]) <= 10 for row in mapping)
    assert {row["field"] for row in mapping}.isdisjoint(HIDDEN)
    frame = pyogrio.read_dataframe(f"/vsizip/{path}/housing.shp")
    assert pyogrio.read_info(f"/vsizip/{path}/housing.shp")["crs"] == "EPSG:9205"
    _check_vn2000({int(r.id): (r.geometry.x, r.geometry.y) for r in frame.itertuples()}, households)
    _check_villages(dict(zip(frame["id"].astype(int), frame["village"], strict=True)), households)


def test_shapefile_names_are_unique_within_ten_characters():
    names = shapefile_names(["id", "predecessor_codes", "predecessor_names", "predecessor_x"])
    assert names == {"id": "id", "predecessor_codes": "predecesso",
                     "predecessor_names": "predeces_2", "predecessor_x": "predeces_3"}


def test_geojson_in_wgs84_and_vn2000(client, households):
    body = _get(client, "format=geojson").json()
    assert "crs" not in body
    assert len(body["features"]) == len(households)
    for feature in body["features"]:
        lon, lat = feature["geometry"]["coordinates"]
        assert abs(lon - households[feature["id"]][0]) < 1e-7
        assert set(feature["properties"]) == set(PUBLIC)
    vn = _get(client, "format=geojson&crs=EPSG:9205")
    assert vn.headers["content-type"] == "application/geo+json"
    body = vn.json()
    assert body["crs"]["properties"]["name"] == "urn:ogc:def:crs:EPSG::9205"
    _check_vn2000({f["id"]: tuple(f["geometry"]["coordinates"]) for f in body["features"]}, households)
    _check_villages({f["id"]: f["properties"]["village"] for f in body["features"]}, households)


def test_csv_has_a_bom_and_coordinates(client, households):
    response = _get(client, "format=csv&crs=EPSG:9205")
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert list(rows[0]) == ["id", *PUBLIC, "easting", "northing"]
    _check_vn2000({int(r["id"]): (float(r["easting"]), float(r["northing"])) for r in rows}, households)
    _check_villages({int(r["id"]): r["village"] for r in rows}, households)
    wgs = list(csv.DictReader(io.StringIO(_get(client, "format=csv").content.decode("utf-8-sig"))))
    assert list(wgs[0])[-2:] == ["lon", "lat"]


def test_csv_of_polygons_carries_wkt(client):
    response = _get(client, "format=csv&crs=EPSG:9205", layer="communes")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 38 and rows[0]["wkt"].startswith("MULTIPOLYGON")
    assert any("Phường" in r["full_name"] for r in rows)


def test_xlsx_opens_with_every_record(client, households, tmp_path):
    response = _get(client, "format=xlsx&crs=EPSG:9205")
    assert response.headers["content-disposition"].endswith('filename="housing_EPSG9205.xlsx"')
    path = tmp_path / "h.xlsx"
    path.write_bytes(response.content)
    book = load_workbook(path, read_only=True)
    rows = list(book["housing"].iter_rows(values_only=True))
    header = list(rows[0])
    assert header == ["id", *PUBLIC, "easting", "northing"]
    records = [dict(zip(header, row, strict=True)) for row in rows[1:]]
    _check_vn2000({r["id"]: (r["easting"], r["northing"]) for r in records}, households)
    _check_villages({r["id"]: r["village"] for r in records}, households)
    info = [row for row in book["thong_tin"].iter_rows(values_only=True)]
    assert ("Hệ tọa độ / CRS", "EPSG:9205") == info[1][:2]


@pytest.mark.parametrize("fmt", ["gpkg", "shp", "geojson", "csv", "xlsx"])
def test_no_personal_value_in_any_format(client, households, fmt, tmp_path):
    content = _get(client, f"format={fmt}").content
    if fmt in ("geojson", "csv"):
        text = content.decode("utf-8-sig")
        columns = text.splitlines()[0] if fmt == "csv" else text
        secrets = [s for row in list(households.values())[:200] for s in row[3:] if s]
        assert not any(secret in text for secret in secrets)
    elif fmt == "xlsx":
        (tmp_path / "x.xlsx").write_bytes(content)
        columns = str(next(load_workbook(tmp_path / "x.xlsx", read_only=True)["housing"].iter_rows(
            values_only=True)))
    else:
        path = tmp_path / ("x.zip" if fmt == "shp" else "x.gpkg")
        path.write_bytes(content)
        source = f"/vsizip/{path}/housing.shp" if fmt == "shp" else path
        columns = str(list(pyogrio.read_info(source)["fields"]))
    for name in HIDDEN:
        assert name[:10] not in columns


def test_filters_of_the_items_endpoint_apply(client, database_url):
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT id FROM housing WHERE poverty_status = 'poor' AND members >= 5 "
                    "AND ST_Intersects(geom, ST_MakeEnvelope(103.0, 22.0, 103.6, 22.6, 4326)) ORDER BY id")
        expected = [row[0] for row in cur.fetchall()]
    assert expected
    query = "format=geojson&filter=" + quote("poverty_status = 'poor' AND members >= 5") + \
        "&bbox=103.0,22.0,103.6,22.6"
    body = _get(client, query).json()
    assert [f["id"] for f in body["features"]] == expected
    limited = _get(client, "format=csv&limit=7&sortby=-members")
    assert limited.headers["x-feature-count"] == "7"


def test_an_empty_result_is_an_empty_file(client, tmp_path):
    response = _get(client, "format=gpkg&filter=" + quote("members > 1000"))
    (tmp_path / "e.gpkg").write_bytes(response.content)
    info = pyogrio.read_info(tmp_path / "e.gpkg")
    assert info["features"] == 0 and "village" in info["fields"]


def test_personal_fields_only_for_roles_that_may_read_them_and_audited(client, staff,
                                                                      database_url):
    leader = staff("leader", "so_xay_dung")
    response = client.get("/api/v1/layers/housing/export?format=csv&limit=5", headers=leader)
    assert "head_of_household" in response.content.decode("utf-8-sig").splitlines()[0]
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT actor, details->>'via', details->>'count' FROM audit_log "
                    "WHERE action = 'read.personal' ORDER BY seq DESC LIMIT 1")
        assert cur.fetchone() == ("t-leader-so-xay-dung", "export:csv", "5")
    for headers in (None, staff("viewer")):
        text = client.get("/api/v1/layers/housing/export?format=csv&limit=5", headers=headers).text
        assert "head_of_household" not in text.splitlines()[0]
    probe = client.get("/api/v1/layers/housing/export",
                       params={"format": "csv", "filter": "citizen_id = '1'"})
    assert probe.status_code == 403


@pytest.mark.parametrize("query, parameter", [
    ("format=pdf", "format"),
    ("format=gpkg&crs=EPSG:3857", "crs"),
    ("format=gpkg&crs=EPSG:9999", "crs"),
    ("format=gpkg&filter=" + quote("members >> 3"), "filter"),
    ("format=csv&bbox=1,2", "bbox"),
    ("format=csv&limit=0", "limit"),
    ("format=csv&geometry=svg", "geometry"),
])
def test_bad_input_is_a_400_problem(client, query, parameter):
    response = client.get(f"/api/v1/layers/housing/export?{query}")
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["parameter"] == parameter and body["detail"] and body["detail_en"]


def test_points_only_for_xy_and_unknown_layer(client):
    response = client.get("/api/v1/layers/roads/export?format=csv&geometry=xy")
    assert response.status_code == 400 and response.json()["parameter"] == "geometry"
    assert client.get("/api/v1/layers/nowhere/export?format=csv").status_code == 404


def test_cli_export(database_url, households, tmp_path, monkeypatch, capsys):
    from api.cli import main

    monkeypatch.setenv("DATABASE_URL", database_url)
    out = tmp_path / "housing.zip"
    main(["export", "housing", "--crs", "EPSG:9205", "-o", str(out),
          "--filter", "poverty_status = 'poor'"])
    assert "housing" in capsys.readouterr().out
    frame = pyogrio.read_dataframe(f"/vsizip/{out}/housing.shp")
    assert len(frame) and set(frame["poverty_st"]) == {"poor"}
    with pytest.raises(SystemExit) as exit_info:
        main(["export", "housing", "--crs", "EPSG:3405", "-o", str(tmp_path / "x.gpkg")])
    assert exit_info.value.code == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "EPSG:9205" in error
    personal = tmp_path / "p.geojson"
    main(["export", "housing", "--sensitivity", "personal", "--limit", "3", "-o", str(personal)])
    assert "head_of_household" in json.loads(personal.read_text())["features"][0]["properties"]
    assert not list(Path(tmp_path).glob("ioc-export-*"))
