"""Importing the files departments really have: each format, VN-2000, legacy encodings."""

from __future__ import annotations

import unicodedata
import zipfile
from pathlib import Path

import geopandas as gpd
import openpyxl
import pyogrio
import pytest
from shapely.geometry import Point, Polygon

from gis_core.crs import to_wgs84
from layers.imports.encoding import encode_tcvn3
from layers.imports.load import ImportOptions, run_import
from layers.imports.problems import ImportRejected
from tests.imports.conftest import commune

# The Lai Châu reference point of docs/crs.md: WGS 84 lon/lat and VN-2000 TM-3 103° (EPSG:9205).
REF_LONLAT = (103.4583, 22.3964)
REF_EN = (546991.573, 2477623.919)
CM = 1e-7  # about a centimetre, in degrees
VN2000_PRJ = (
    'PROJCS["VN2000_Lai_Chau_KTT_103",GEOGCS["GCS_VN_2000",DATUM["D_Vietnam_2000",'
    'SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],'
    'UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],'
    'PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],'
    'PARAMETER["Central_Meridian",103.0],PARAMETER["Scale_Factor",0.9999],'
    'PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]'
)
NAMES = ["Trường Tiểu học Nậm Hàng", "Trường Mầm non Mường Tè", "Trường THCS Bản Giang"]


def rows(engine, sql, **params):
    with engine.connect() as conn:
        return conn.exec_driver_sql(sql, params or None).all()


def vn2000(lon: float, lat: float) -> tuple[float, float]:
    return to_wgs84(9205).transform(lon, lat, direction="INVERSE")


def tcvn3_shapefile(folder: Path, engine) -> Path:
    """Schools in VN-2000 with a .prj lacking any EPSG code and a TCVN3 .dbf without .cpg."""
    code, lon, lat = commune(engine)
    points = [Point(*REF_EN)] + [Point(*vn2000(lon + d, lat + d)) for d in (0.001, 0.002)]
    codes = [_commune_at(engine, *REF_LONLAT), code, code]
    frame = gpd.GeoDataFrame({
        "TEN": [encode_tcvn3(n).decode("latin1") for n in NAMES],
        "CAP_HOC": [encode_tcvn3(t).decode("latin1") for t in ("Tiểu học", "Mầm non",
                                                               "Trung học cơ sở")],
        "SO_HS": [320, 120, 410], "MA_XA": codes}, geometry=points)
    path = folder / "truong_hoc.shp"
    pyogrio.write_dataframe(frame, path, encoding="latin1")
    for extra in folder.glob("truong_hoc.cpg"):
        extra.unlink()
    (folder / "truong_hoc.prj").write_text(VN2000_PRJ)
    return path


def _commune_at(engine, lon, lat) -> str:
    return rows(engine, "SELECT code FROM communes WHERE ST_Intersects(geom, "
                "ST_SetSRID(ST_MakePoint(%(x)s, %(y)s), 4326))", x=lon, y=lat)[0][0]


def test_vn2000_shapefile_with_tcvn3_text(engine, tmp_path):
    path = tcvn3_shapefile(tmp_path, engine)
    mapping = {"name": "TEN", "level": "CAP_HOC", "students": "SO_HS", "commune_code": "MA_XA"}
    report = run_import(engine, "schools", path, ImportOptions(mapping=mapping))
    assert report.status == "imported" and report.added == 3
    assert report.source_crs == "EPSG:9205" and "103" in report.crs_note
    assert report.encoding == "tcvn3"
    got = rows(engine, "SELECT name, level, students, ST_X(geom), ST_Y(geom), source_dataset, "
               "import_job FROM schools WHERE source_dataset = 'truong_hoc' ORDER BY students")
    assert [r[0] for r in got] == [NAMES[1], NAMES[0], NAMES[2]]
    assert all(unicodedata.is_normalized("NFC", r[0]) for r in got)
    assert [r[1] for r in got] == ["preschool", "primary", "lower_secondary"]
    reference = next(r for r in got if r[0] == NAMES[0])
    assert abs(reference[3] - REF_LONLAT[0]) < CM and abs(reference[4] - REF_LONLAT[1]) < CM
    assert {r[6] for r in got} == {report.job}
    job = rows(engine, "SELECT file_name, file_sha256, source_crs, status FROM import_jobs "
               "WHERE id = %(j)s", j=report.job)[0]
    assert job == ("truong_hoc.shp", report.file_sha256, "EPSG:9205", "imported")


def test_zipped_shapefile_imports_the_same(engine, tmp_path):
    folder = tmp_path / "src"
    folder.mkdir()
    tcvn3_shapefile(folder, engine)
    archive = tmp_path / "truong_hoc_zip.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in folder.iterdir():
            zf.write(part, part.name)
    mapping = {"name": "TEN", "level": "CAP_HOC", "students": "SO_HS", "commune_code": "MA_XA"}
    report = run_import(engine, "schools", archive, ImportOptions(mapping=mapping, dry_run=True))
    assert report.status == "dry_run" and report.added == 3 and report.encoding == "tcvn3"
    assert rows(engine, "SELECT count(*) FROM schools WHERE source_dataset = 'truong_hoc_zip'"
                )[0][0] == 0


def test_xlsx_with_vietnamese_headers_and_vn2000_xy(engine, tmp_path):
    code, lon, lat = commune(engine)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Mã hộ", "Chủ hộ", "Số nhân khẩu", "Hộ nghèo", "Loại nhà", "Thời điểm khảo sát",
                  "Trạng thái duyệt", "Mã xã", "X", "Y"])
    for i, (status, kind) in enumerate([("Hộ nghèo", "Tạm"), ("Hộ cận nghèo", "Bán kiên cố"),
                                        ("Không", "Kiên cố")]):
        east, north = vn2000(lon + i * 0.0005, lat)
        # Vietnamese survey sheets put the northing in X and the easting in Y.
        sheet.append([f"HO-{i}", f"Lò Văn {'ABC'[i]}", 4 + i, status, kind, "15/03/2025",
                      "Chờ duyệt", code, round(north, 3), round(east, 3)])
    path = tmp_path / "ho_gia_dinh.xlsx"
    book.save(path)
    report = run_import(engine, "housing", path, ImportOptions(crs="EPSG:9205"))
    assert report.added == 3
    got = rows(engine, "SELECT household_code, head_of_household, poverty_status, house_type, "
               "(surveyed_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date::text, ST_X(geom) FROM housing "
               "WHERE source_dataset = 'ho_gia_dinh' ORDER BY household_code")
    assert [r[2] for r in got] == ["poor", "near_poor", "none"]
    assert [r[3] for r in got] == ["temporary", "semi_permanent", "permanent"]
    assert got[0][1] == "Lò Văn A" and got[0][4] == "2025-03-15"
    assert abs(got[1][5] - (lon + 0.0005)) < 1e-7 * 1.5  # the sheet holds millimetres


def test_geopackage_polygons_with_a_safe_repair_and_an_unsafe_one(engine, tmp_path):
    code, lon, lat = commune(engine)
    x, y = vn2000(lon, lat)
    square = Polygon([(x, y), (x + 40, y), (x + 40, y + 40), (x, y + 40)])
    # A ring touching itself at one point: invalid, repaired to the same area.
    pinched = Polygon([(x + 100, y), (x + 140, y), (x + 120, y + 20), (x + 140, y + 40),
                       (x + 100, y + 40), (x + 120, y + 20), (x + 100, y)])
    frame = gpd.GeoDataFrame({"so_to": [12, 12], "so_thua": [101, 102], "dien_tich": [1600, 800],
                              "loai_dat": ["ONT", "ONT"], "ma_xa": [code, code]},
                             geometry=[square, pinched], crs="EPSG:9205")
    path = tmp_path / "thua_dat.gpkg"
    pyogrio.write_dataframe(frame, path, layer="thua_dat")
    mapping = {"map_sheet": "so_to", "parcel_number": "so_thua", "area_m2": "dien_tich",
               "land_use_type": "loai_dat", "commune_code": "ma_xa"}
    report = run_import(engine, "land_parcels", path,
                        ImportOptions(mapping=mapping, key="so_to,so_thua"))
    assert report.added == 2 and len(report.repaired) == 1 and report.repaired[0].row == 2
    area = rows(engine, "SELECT ST_Area(ST_Transform(geom, 9205)) FROM land_parcels "
                "WHERE source_key = '12/101'")[0][0]
    assert abs(area - 1600) < 0.01
    bowtie = Polygon([(x, y), (x + 40, y + 40), (x + 40, y), (x, y + 40)])
    frame = gpd.GeoDataFrame({"so_to": [13], "so_thua": [1], "dien_tich": [10], "loai_dat": ["ONT"],
                              "ma_xa": [code]}, geometry=[bowtie], crs="EPSG:9205")
    path = tmp_path / "thua_loi.gpkg"
    pyogrio.write_dataframe(frame, path)
    with pytest.raises(ImportRejected) as err:
        run_import(engine, "land_parcels", path, ImportOptions(mapping=mapping, key="so_to,so_thua"))
    assert err.value.report.errors[0].field == "geometry"
    assert "không sửa tự động" in err.value.report.errors[0].reason


def test_geojson_kml_and_gpx_points(engine, tmp_path):
    code, lon, lat = commune(engine)
    frame = gpd.GeoDataFrame({"Name": ["Trạm Y tế Nậm Hàng"], "loai": ["Trạm y tế xã"],
                              "ma_xa": [code]}, geometry=[Point(lon, lat)], crs="EPSG:4326")
    mapping = {"kind": "loai", "commune_code": "ma_xa"}
    for driver, suffix in (("GeoJSON", ".geojson"), ("KML", ".kml")):
        path = tmp_path / f"tram{suffix}"
        pyogrio.write_dataframe(frame, path, driver=driver)
        report = run_import(engine, "health_facilities", path,
                            ImportOptions(mapping=mapping, dataset=f"tram-{driver}"))
        assert report.added == 1, driver
        got = rows(engine, "SELECT name, ST_X(geom), ST_Y(geom) FROM health_facilities "
                   "WHERE source_dataset = %(d)s", d=f"tram-{driver}")
        assert got[0][0] == "Trạm Y tế Nậm Hàng" and abs(got[0][1] - lon) < CM
    gpx = tmp_path / "diem.gpx"
    gpx.write_text(
        '<?xml version="1.0" encoding="UTF-8"?><gpx version="1.1" creator="phone" '
        'xmlns="http://www.topografix.com/GPX/1/1">'
        f'<wpt lat="{lat}" lon="{lon}"><name>Pơ mu</name></wpt></gpx>', encoding="utf-8")
    report = run_import(engine, "trees", gpx, ImportOptions(mapping={"species": "name"}))
    assert report.added == 1
    # No commune column in the file: the commune is the one the point falls in.
    assert rows(engine, "SELECT species, commune_code FROM trees WHERE source_dataset = 'diem'"
                ) == [("Pơ mu", code)]
