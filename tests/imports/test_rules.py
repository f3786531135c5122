"""All or nothing, idempotent re-imports, history, and one clear message for each bad file."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import unicodedata
import zipfile
from datetime import UTC, datetime, timedelta

import openpyxl
import pytest

from gis_core.crs import to_wgs84
from layers.history import feature_changes, features_as_of
from layers.imports.load import ImportOptions, run_import
from layers.imports.problems import FileRejected, ImportRejected
from layers.registry import get_layer
from tests.imports.conftest import commune, snapshot

HEADER = ["Tên", "Cấp học", "Số học sinh", "Mã xã", "kinh_do", "vi_do"]


def write_csv(path, rows, encoding="utf-8"):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    writer.writerows(rows)
    text = buffer.getvalue()
    path.write_bytes((windows_1258(text) if encoding == "cp1258" else text).encode(encoding))
    return path


def windows_1258(text):
    """Text as Windows-1258 spells it: letters with their shape marks, tone marks apart."""
    tones = "\u0300\u0301\u0303\u0309\u0323"
    out = []
    for ch in unicodedata.normalize("NFC", text):
        parts = unicodedata.normalize("NFD", ch)
        shape = unicodedata.normalize("NFC", "".join(c for c in parts if c not in tones))
        out.append(shape + "".join(c for c in parts if c in tones))
    return "".join(out)


def schools(engine, n=3, students=100):
    code, lon, lat = commune(engine)
    return [[f"Trường Tiểu học số {i}", "Tiểu học", students + i, code, lon + i * 1e-4, lat]
            for i in range(n)]


def test_a_bad_row_rejects_the_whole_file_and_leaves_the_store_as_it_was(engine, tmp_path):
    data = schools(engine, 4)
    data[1][2] = "nhiều"          # not a number
    data[2][1] = "Đại học"         # not in the domain
    data[3][4], data[3][5] = 105.8, 21.0  # Hà Nội: outside the province
    before = snapshot(engine, "schools")
    with pytest.raises(ImportRejected) as err:
        run_import(engine, "schools", write_csv(tmp_path / "bad.csv", data), ImportOptions())
    assert snapshot(engine, "schools") == before
    report = err.value.report
    assert [(e.row, e.field) for e in report.errors] == [
        (3, "students"), (4, "level"), (5, "geometry")]
    assert "ngoài tỉnh" in report.errors[2].reason
    assert "dòng 3" in err.value.message and "students" in err.value.message
    assert report.errors_csv().count("\n") == 4
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT status FROM import_jobs WHERE id = %(j)s",
                                    {"j": report.job}).scalar() == "rejected"


def test_reimport_is_idempotent_and_a_new_version_upserts_with_history(engine, tmp_path):
    data = schools(engine, 3)
    path = write_csv(tmp_path / "truong_v.csv", data)
    first = run_import(engine, "schools", path, ImportOptions(dataset="truong", actor="sở gd"))
    assert (first.added, first.changed, first.removed) == (3, 0, 0)
    before = snapshot(engine, "schools")
    again = run_import(engine, "schools", path, ImportOptions(dataset="truong"))
    assert again.status == "unchanged" and again.unchanged == 3
    assert snapshot(engine, "schools") == before
    moment = datetime.now(UTC)
    data[0][2] = 999                                   # changed
    data[2] = ["Trường Tiểu học mới", "Tiểu học", 50, data[2][3], data[2][4], data[2][5]]
    newer = run_import(engine, "schools", write_csv(tmp_path / "truong_v2.csv", data),
                       ImportOptions(dataset="truong", actor="sở gd"))
    assert (newer.added, newer.changed, newer.removed, newer.unchanged) == (1, 1, 1, 1)
    layer = get_layer("schools")
    with engine.connect() as conn:
        cur = conn.connection.dbapi_connection.cursor()
        cur.execute("SELECT id FROM schools WHERE source_dataset = 'truong' AND name = %s",
                    (data[0][0],))
        fid = cur.fetchone()[0]
        changes = feature_changes(cur, layer, fid)
        assert [c["op"] for c in changes] == ["insert", "update"]
        assert changes[1]["changed"]["students"] == {"old": 100, "new": 999}
        assert changes[1]["actor"] == "sở gd" and changes[1]["source"] == f"import:{newer.job}"
        assert changes[1]["file"]["name"] == "truong_v2.csv"
        def names(at):
            text, matched = features_as_of(cur, layer, at, limit=10_000)
            found = {f["properties"]["name"]: f["properties"]["students"]
                     for f in json.loads(text)}
            assert len(found) == matched
            return found

        then, now = names(moment), names(datetime.now(UTC))
        assert then["Trường Tiểu học số 0"] == 100 and now["Trường Tiểu học số 0"] == 999
        assert "Trường Tiểu học số 2" in then and "Trường Tiểu học số 2" not in now
        assert "Trường Tiểu học mới" in now and "Trường Tiểu học mới" not in then
        assert not any(n.startswith("Trường Tiểu học") for n in names(moment - timedelta(days=3650)))


def test_dry_run_reports_without_writing(engine, tmp_path):
    before = snapshot(engine, "schools")
    report = run_import(engine, "schools", write_csv(tmp_path / "thu.csv", schools(engine, 2)),
                        ImportOptions(dry_run=True))
    assert report.status == "dry_run" and report.added == 2
    assert snapshot(engine, "schools") == before


def test_windows_1258_csv_is_converted(engine, tmp_path):
    data = schools(engine, 1)
    data[0][0] = "Trường Tiểu học Nậm Hàng"
    path = write_csv(tmp_path / "cp1258.csv", data, encoding="cp1258")
    report = run_import(engine, "schools", path, ImportOptions())
    assert report.added == 1
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT name FROM schools WHERE source_dataset = 'cp1258'"
                                    ).scalar() == "Trường Tiểu học Nậm Hàng"


def test_vni_text_is_refused_naming_the_encoding(engine, tmp_path):
    code, lon, lat = commune(engine)
    # "Trường Tiểu học" as VNI-Windows bytes: base letters followed by mark bytes.
    vni = b"Tr\xf6\xf4\xf8ng Ti\xe8u hoc"
    raw = ",".join(HEADER).encode() + b"\n" + vni + f",Tiểu học,10,{code},{lon},{lat}\n".encode()
    (tmp_path / "vni.csv").write_bytes(raw)
    with pytest.raises(FileRejected, match="VNI"):
        run_import(engine, "schools", tmp_path / "vni.csv", ImportOptions())


@pytest.mark.parametrize("case", ["corrupt_zip", "shp_without_dbf", "gpkg_without_layers",
                                  "merged_header", "zip_bomb", "no_crs", "unknown_type",
                                  "too_many", "no_coordinates"])
def test_bad_files_get_one_clear_message_and_change_nothing(engine, tmp_path, case):
    before = snapshot(engine, "schools")
    options = ImportOptions()
    if case == "corrupt_zip":
        path = tmp_path / "hong.zip"
        path.write_bytes(b"PK\x03\x04 this is not a zip")
        expected = "bị hỏng"
    elif case == "shp_without_dbf":
        path = tmp_path / "a.shp"
        path.write_bytes(b"\x00" * 100)
        (tmp_path / "a.shx").write_bytes(b"\x00" * 100)
        expected = "thiếu tệp .dbf"
    elif case == "gpkg_without_layers":
        path = tmp_path / "rong.gpkg"
        db = sqlite3.connect(path)
        db.execute("PRAGMA application_id = 1196444487")
        db.execute("CREATE TABLE gpkg_contents (table_name TEXT PRIMARY KEY, data_type TEXT, "
                   "identifier TEXT, description TEXT, last_change TEXT, min_x REAL, min_y REAL, "
                   "max_x REAL, max_y REAL, srs_id INTEGER)")
        db.commit()
        db.close()
        expected = "rong.gpkg"
    elif case == "merged_header":
        book = openpyxl.Workbook()
        book.active.append(["Thông tin trường", None, "Tọa độ", None])
        book.active.merge_cells("A1:B1")
        path = tmp_path / "gop.xlsx"
        book.save(path)
        expected = "ô gộp"
    elif case == "zip_bomb":
        path = tmp_path / "bom.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("a.csv", b"0" * (50 * 2**20))
        expected = "zip bomb"
    elif case == "no_crs":
        path = write_csv(tmp_path / "xy.csv", [])
        path.write_text("Tên,Cấp học,Mã xã,x,y\nA,Tiểu học,X,2477623.9,546991.5\n", encoding="utf-8")
        expected = "--crs"
    elif case == "unknown_type":
        path = tmp_path / "ban_do.dwg"
        path.write_bytes(b"AC1027")
        expected = "Không hỗ trợ loại tệp"
    elif case == "too_many":
        path = write_csv(tmp_path / "nhieu.csv", schools(engine, 6))
        options = ImportOptions(max_features=5)
        expected = "chia nhỏ"
    else:
        path = tmp_path / "khong_toa_do.csv"
        path.write_text("Tên,Cấp học\nA,Tiểu học\n", encoding="utf-8")
        expected = "không có cột tọa độ"
    with pytest.raises(FileRejected) as err:
        run_import(engine, "schools", path, options)
    assert expected in err.value.message
    assert err.value.message_en and err.value.status == 422
    assert snapshot(engine, "schools") == before


def test_data_outside_the_province_is_reported_as_a_probable_crs_error(engine, tmp_path):
    code, lon, lat = commune(engine)
    east, north = to_wgs84(9205).transform(lon, lat, direction="INVERSE")
    path = tmp_path / "sai_mui.csv"
    path.write_text(f"Tên,Cấp học,Mã xã,x,y\nA,Tiểu học,{code},{east},{north}\n", encoding="utf-8")
    with pytest.raises(ImportRejected) as err:
        run_import(engine, "schools", path, ImportOptions(crs="EPSG:9210"))
    assert "EPSG:9205" in err.value.message and "sai hệ tọa độ" in err.value.message


def test_unknown_commune_codes_are_row_errors(engine, tmp_path):
    data = schools(engine, 1)
    data[0][3] = "99999"
    with pytest.raises(ImportRejected) as err:
        run_import(engine, "schools", write_csv(tmp_path / "ma.csv", data), ImportOptions())
    assert err.value.report.errors[0].field == "commune_code"
