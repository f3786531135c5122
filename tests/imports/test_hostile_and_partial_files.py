"""Files that are incomplete or hostile: no commune column, an unclosed ring, a giant CSV cell,
a zip bomb of many small members, a VN-2000 .prj with a datum shift. Each either imports as the
README promises or is refused with what to change, and nothing is written."""

from __future__ import annotations

import csv
import io
import json
import struct
import zipfile
import zlib

import geopandas as gpd
import openpyxl
import pyogrio
import pytest
from pyproj import CRS
from shapely.geometry import Point

from layers.imports import readers
from layers.imports.load import ImportOptions, run_import
from layers.imports.problems import FileRejected, ImportRejected
from tests.imports.conftest import commune, snapshot
from tests.imports.test_files import CM, REF_EN, REF_LONLAT, _commune_at, rows, vn2000
from tests.unit.test_crs import NATIONAL, WKT1, WRONG_SIGNS

SCHOOL = {"Tên": "Trường Tiểu học Pa Tần", "Cấp học": "Tiểu học", "Số học sinh": 210}
# dBASE names are ten bytes and KML keeps plain names: those files use short columns and a mapping.
SHORT = {"TEN": SCHOOL["Tên"], "CAP_HOC": SCHOOL["Cấp học"], "SO_HS": SCHOOL["Số học sinh"]}
SHORT_MAPPING = {"name": "TEN", "level": "CAP_HOC", "students": "SO_HS"}
ZONE = {"plan_level": "master", "land_use": "residential", "decision_number": "123/QĐ-UBND"}


def _frame(lon: float, lat: float, crs: str = "EPSG:4326", columns: dict = SCHOOL
           ) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({k: [v] for k, v in columns.items()}, geometry=[Point(lon, lat)],
                            crs=crs)


def _write(fmt: str, folder, lon: float, lat: float):
    """One school, in ``fmt``, with no commune column at all."""
    if fmt == "csv":
        path = folder / "khong_ma_xa.csv"
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([*SCHOOL, "kinh_do", "vi_do"])
        writer.writerow([*SCHOOL.values(), lon, lat])
        path.write_text(buffer.getvalue(), encoding="utf-8")
    elif fmt == "xlsx":
        path = folder / "khong_ma_xa.xlsx"
        book = openpyxl.Workbook()
        book.active.append([*SCHOOL, "X", "Y"])
        east, north = vn2000(lon, lat)
        book.active.append([*SCHOOL.values(), round(north, 3), round(east, 3)])
        book.save(path)
    elif fmt == "shp":
        east, north = vn2000(lon, lat)
        path = folder / "khong_ma_xa.shp"
        pyogrio.write_dataframe(_frame(east, north, "EPSG:9205", SHORT), path, encoding="utf-8")
    else:
        suffix, driver = {"gpkg": (".gpkg", "GPKG"), "geojson": (".geojson", "GeoJSON"),
                          "kml": (".kml", "KML")}[fmt]
        path = folder / f"khong_ma_xa{suffix}"
        pyogrio.write_dataframe(_frame(lon, lat, columns=SHORT if fmt == "kml" else SCHOOL),
                                path, driver=driver)
    return path


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "shp", "gpkg", "geojson", "kml"])
def test_without_a_commune_column_the_commune_comes_from_the_point(engine, tmp_path, fmt):
    code, lon, lat = commune(engine)
    path = _write(fmt, tmp_path, lon, lat)
    mapping = SHORT_MAPPING if fmt in ("shp", "kml") else None
    options = ImportOptions(dataset=f"khong-ma-xa-{fmt}", mapping=mapping,
                            crs="EPSG:9205" if fmt == "xlsx" else None)
    report = run_import(engine, "schools", path, options)
    assert report.added == 1
    assert rows(engine, "SELECT name, commune_code FROM schools WHERE source_dataset = %(d)s",
                d=f"khong-ma-xa-{fmt}") == [(SCHOOL["Tên"], code)]


def test_an_empty_commune_cell_is_filled_and_a_point_in_no_commune_is_named(engine, tmp_path):
    code, lon, lat = commune(engine)
    path = tmp_path / "o_trong.csv"
    path.write_text("Tên,Cấp học,Mã xã,kinh_do,vi_do\n"
                    f"Trường A,Tiểu học,,{lon},{lat}\n", encoding="utf-8")
    report = run_import(engine, "schools", path, ImportOptions())
    assert report.added == 1
    assert rows(engine, "SELECT commune_code FROM schools WHERE source_dataset = 'o_trong'"
                ) == [(code,)]


def test_a_geojson_polygon_with_an_unclosed_ring_is_a_row_error(engine, tmp_path):
    code, lon, lat = commune(engine)
    d = 0.001
    closed = [[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]
    features = [{"type": "Feature", "properties": {**ZONE, "plan_name": name},
                 "geometry": {"type": "Polygon", "coordinates": [ring]}}
                for name, ring in (("Khu A", closed), ("Khu B", closed[:-1]))]
    path = tmp_path / "vung.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    before = snapshot(engine, "planning_zones")
    with pytest.raises(ImportRejected) as err:
        run_import(engine, "planning_zones", path, ImportOptions())
    assert snapshot(engine, "planning_zones") == before
    issue = next(e for e in err.value.report.errors if e.field == "geometry")
    assert issue.row == 2 and "không khép kín" in issue.reason and "last point" in issue.reason_en


def test_an_unclosed_wkt_ring_in_a_csv_says_so(engine, tmp_path):
    code, lon, lat = commune(engine)
    path = tmp_path / "vung_wkt.csv"
    ring = f"{lon} {lat}, {lon + 0.001} {lat}, {lon} {lat + 0.001}"
    path.write_text(",".join(ZONE) + ",plan_name,wkt\n" + ",".join(ZONE.values())
                    + f',Khu C,"POLYGON(({ring}))"\n', encoding="utf-8")
    with pytest.raises(ImportRejected) as err:
        run_import(engine, "planning_zones", path, ImportOptions(crs="EPSG:4326"))
    assert any("không khép kín" in e.reason for e in err.value.report.errors)


def test_a_csv_cell_over_the_csv_limit_is_refused_with_the_line(engine, tmp_path):
    code, lon, lat = commune(engine)
    path = tmp_path / "dai.csv"
    path.write_text(f"Tên,Cấp học,kinh_do,vi_do\nA,Tiểu học,{lon},{lat}\n"
                    f"{'B' * 140_000},Tiểu học,{lon},{lat}\n", encoding="utf-8")
    before = snapshot(engine, "schools")
    with pytest.raises(FileRejected) as err:
        run_import(engine, "schools", path, ImportOptions())
    assert "Dòng 3" in err.value.message and "131,072" in err.value.message
    assert "GeoPackage" in err.value.message_en and err.value.status == 422
    assert snapshot(engine, "schools") == before


def _bomb(path, members: int = 100, size: int = 9 * 2**20) -> None:
    """The issue's archive: ``members`` copies of ``size`` zeros, each under the per-member
    limits. Deflated once and written as a zip by hand (zipfile would deflate every copy)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = packer.compress(b"0" * size) + packer.flush()
    crc = zlib.crc32(b"0" * size)
    local, central = bytearray(), bytearray()
    for n in range(members):
        name = f"rac/{n:03}.bin".encode()
        fields = struct.pack("<HHHHHIIIHH", 20, 0, 8, 0, 0x21, crc, len(data), size, len(name), 0)
        central += (b"PK\x01\x02" + struct.pack("<H", 20) + fields
                    + struct.pack("<HHHII", 0, 0, 0, 0, len(local)) + name)
        local += b"PK\x03\x04" + fields + name + data
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, members, members, len(central),
                      len(local), 0)
    path.write_bytes(bytes(local + central + end))


def test_a_zip_bomb_of_many_small_members_is_refused_before_anything_is_written(tmp_path):
    bomb = tmp_path / "bom.zip"
    _bomb(bomb)
    assert bomb.stat().st_size < 2**20  # 900 MiB of zeros in under 1 MiB
    folder = tmp_path / "unpacked"
    folder.mkdir()
    with pytest.raises(FileRejected) as err:
        readers._unzip(bomb, folder, None)
    assert "zip bomb" in err.value.message and "MB" in err.value.message_en
    assert list(folder.rglob("*")) == []


def test_too_many_members_and_unsafe_paths_are_refused_before_writing(tmp_path):
    many = tmp_path / "nhieu.zip"
    with zipfile.ZipFile(many, "w") as zf:
        for n in range(readers.MAX_MEMBERS + 1):
            zf.writestr(f"{n}.txt", b"x")
    unsafe = tmp_path / "duong_dan.zip"
    with zipfile.ZipFile(unsafe, "w") as zf:
        zf.writestr("a.csv", b"Ten,kinh_do,vi_do\n")
        zf.writestr("../../ngoai.csv", b"x")
    for archive in (many, unsafe):
        folder = tmp_path / f"out-{archive.stem}"
        folder.mkdir()
        with pytest.raises(FileRejected):
            readers._unzip(archive, folder, None)
        assert list(folder.rglob("*")) == []
    assert not (tmp_path / "ngoai.csv").exists()


def test_a_central_directory_that_understates_a_member_cannot_write_more(tmp_path):
    """A member whose central directory claims 1 KiB but whose data inflates to 50 MiB: the
    extraction stops at the claimed size and the archive is refused as corrupt."""
    archive = tmp_path / "doi_tra.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.csv", b"0" * (50 * 2**20))
    data = bytearray(archive.read_bytes())
    central = data.rfind(b"PK\x01\x02")
    data[central + 24:central + 28] = (1024).to_bytes(4, "little")  # uncompressed size
    archive.write_bytes(bytes(data))
    folder = tmp_path / "out"
    folder.mkdir()
    with pytest.raises(FileRejected, match="bị hỏng"):
        readers._unzip(archive, folder, None)
    assert sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) <= 1024


def _shapefile_with_prj(engine, folder, prj: str):
    """The docs/crs.md reference point as a VN-2000 school (with its commune), with the .prj given."""
    frame = gpd.GeoDataFrame({"TEN": ["Trường tham chiếu"], "CAP_HOC": ["Tiểu học"],
                              "MA_XA": [_commune_at(engine, *REF_LONLAT)]},
                             geometry=[Point(*REF_EN)])
    path = folder / "tham_chieu.shp"
    pyogrio.write_dataframe(frame, path, encoding="utf-8")
    (folder / "tham_chieu.prj").write_text(prj)
    return path


@pytest.mark.parametrize(("prj", "warned"), [
    pytest.param(CRS.from_epsg(9205).to_wkt("WKT1_ESRI"), None, id="esri"),
    pytest.param(WKT1.format(""), None, id="wkt1"),
    pytest.param(WKT1.format(f",TOWGS84[{NATIONAL}]"), None, id="wkt1-towgs84"),
    pytest.param(WKT1.format(f",TOWGS84[{WRONG_SIGNS}]"), "0.8 m", id="wkt1-wrong-signs"),
    pytest.param(WKT1.format(",TOWGS84[0,0,0,0,0,0,0]"), "222.7 m", id="wkt1-zero-shift"),
    pytest.param(CRS.from_epsg(9205).to_wkt("WKT2_2019"), None, id="wkt2"),
    pytest.param("+proj=tmerc +lat_0=0 +lon_0=103 +k=0.9999 +x_0=500000 +y_0=0 +ellps=WGS84 "
                 f"+towgs84={NATIONAL} +units=m +no_defs", None, id="proj-string"),
])
def test_vn2000_prj_forms_import_to_the_centimetre(engine, tmp_path, prj, warned):
    path = _shapefile_with_prj(engine, tmp_path, prj)
    dataset = f"prj-{abs(hash(prj))}"
    mapping = {"name": "TEN", "level": "CAP_HOC", "commune_code": "MA_XA"}
    report = run_import(engine, "schools", path, ImportOptions(dataset=dataset, mapping=mapping))
    assert report.source_crs == "EPSG:9205" and "103" in report.crs_note
    (x, y), = rows(engine, "SELECT ST_X(geom), ST_Y(geom) FROM schools "
                   "WHERE source_dataset = %(d)s", d=dataset)
    assert abs(x - REF_LONLAT[0]) < CM and abs(y - REF_LONLAT[1]) < CM
    crs_warnings = [w for w in report.warnings if "TOWGS84" in w]
    if warned is None:
        assert crs_warnings == []
    else:
        assert len(crs_warnings) == 1 and f"khoảng {warned}" in crs_warnings[0]


@pytest.mark.parametrize(("towgs84", "warned"), [(NATIONAL, False), (WRONG_SIGNS, True)])
def test_a_prj_written_by_gdal_from_a_proj_string(engine, tmp_path, towgs84, warned):
    """QGIS users define VN-2000 as a custom PROJ string; GDAL then writes an ESRI .prj that folds
    the shift into the datum's name."""
    frame = gpd.GeoDataFrame({"TEN": ["Trường GDAL"], "CAP_HOC": ["Tiểu học"],
                              "MA_XA": [_commune_at(engine, *REF_LONLAT)]},
                             geometry=[Point(*REF_EN)],
                             crs="+proj=tmerc +lat_0=0 +lon_0=103 +k=0.9999 +x_0=500000 +y_0=0 "
                                 f"+ellps=WGS84 +towgs84={towgs84} +units=m +no_defs")
    path = tmp_path / "gdal_viet.shp"
    pyogrio.write_dataframe(frame, path, encoding="utf-8")
    assert "towgs84" in (tmp_path / "gdal_viet.prj").read_text()
    dataset = f"gdal-{warned}"
    mapping = {"name": "TEN", "level": "CAP_HOC", "commune_code": "MA_XA"}
    report = run_import(engine, "schools", path, ImportOptions(dataset=dataset, mapping=mapping))
    assert report.source_crs == "EPSG:9205"
    (x, y), = rows(engine, "SELECT ST_X(geom), ST_Y(geom) FROM schools "
                   "WHERE source_dataset = %(d)s", d=dataset)
    assert abs(x - REF_LONLAT[0]) < CM and abs(y - REF_LONLAT[1]) < CM
    assert any("khoảng 0.8 m" in w for w in report.warnings) == warned
