"""Import reports belong to the importer, the owning department's editors and leaders and the
operator; personal values are masked in them (duplicate keys included); every read is audited."""

from __future__ import annotations

import csv
import io
import json

import psycopg2
import pytest

from tests.auth.conftest import audit_head, audit_rows, bearer
from tests.conftest import wait_for_job

# Imports are queued jobs: a worker process runs them.
pytestmark = pytest.mark.usefixtures("job_worker")

CITIZEN_ID = "012345678901"
HEAD = "Lò Thị Mẩy"
HEADER = ["Mã hộ", "Chủ hộ", "Số CCCD chủ hộ", "Số nhân khẩu", "Hộ nghèo", "Loại nhà",
          "Thời điểm khảo sát", "Trạng thái duyệt", "kinh_do", "vi_do"]


@pytest.fixture(scope="module")
def personal_client(database_url):
    """An API client that may read housing's personal fields, but imported nothing."""
    from gis_core.db import engine_for
    from governance import accounts

    with engine_for(database_url).begin() as conn:
        _, key = accounts.create_api_client(conn, username="t-housing-reader",
                                            scopes=("personal:housing",))
    return {"X-API-Key": key}


@pytest.fixture(scope="module")
def rejected(client, tokens, communes, database_url):
    """An editor's housing file keyed by citizen ID, with one ID twice: rejected."""
    home, _ = communes
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM communes "
                    "WHERE code = %s) s", (home,))
        lon, lat = cur.fetchone()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    for n in range(2):
        writer.writerow([f"HO-BC-{n}", HEAD, CITIZEN_ID, 4, "Hộ nghèo", "Tạm", "15/03/2025",
                         "Chờ duyệt", lon, lat])
    response = wait_for_job(client.get, client.post(
        "/api/v1/layers/housing/imports", headers=bearer(tokens["deped1"]),
        files={"file": ("ho.csv", buffer.getvalue().encode(), "text/csv")},
        data={"key": "Số CCCD chủ hộ", "dataset": "bao_cao"}), bearer(tokens["deped1"]))
    assert response.status_code == 422, response.text
    return response


def test_a_duplicate_personal_key_is_masked_in_the_answer_and_every_report(client, tokens,
                                                                           rejected):
    issue = next(e for e in rejected.json()["errors"] if e["field"] == "Số CCCD chủ hộ")
    assert issue["row"] == 3 and issue["value"] == "***" and "row 2" in issue["reason_en"]
    assert CITIZEN_ID not in rejected.text and HEAD not in rejected.text
    links = rejected.json()["links"]
    for url in (links["job"], links["report_json"], links["report_csv"]):
        got = client.get(url, headers=bearer(tokens["deped1"]))
        assert got.status_code == 200 and "***" in got.text
        assert CITIZEN_ID not in got.text and HEAD not in got.text


@pytest.mark.parametrize(("who", "status"), [
    ("deped1", 200), ("deped2", 200), ("leader1", 200), ("op1", 200),
    ("viewer1", 403), ("healthed", 403), ("field1", 403), ("communeed", 403),
    ("other_leader", 403), ("reader", 403), ("personal_client", 403)])
def test_reports_belong_to_the_importer_the_department_and_the_operator(
        client, tokens, staff, reader, personal_client, rejected, database_url, who, status):
    if who == "other_leader":
        headers = staff("leader", "so_y_te")
    elif who == "reader":
        headers = reader
    elif who == "personal_client":
        headers = personal_client
    else:
        headers = bearer(tokens[who])
    job = rejected.json()["job"]
    since = audit_head(database_url)
    for url in rejected.json()["links"].values():
        assert client.get(url, headers=headers).status_code == status, url
    logged = audit_rows(database_url, since, "import.report.read")
    assert [(r[3], r[4], r[5]["via"]) for r in logged] == [
        (f"housing/import:{job}", "ok" if status == 200 else "denied", via)
        for via in ("job", "json", "csv")]


def test_reports_stored_before_masking_are_masked_when_read(client, tokens, database_url):
    """A report kept with raw values (as jobs were before) is masked on the way out."""
    report = {"layer": "housing", "dataset": "cu", "file_name": "cu.csv", "file_sha256": "0",
              "file_size": 1, "actor": "deped1", "status": "rejected",
              "mapping": {"citizen_id": "CCCD", "head_of_household": "Chủ hộ",
                          "household_code": "Mã hộ"},
              "errors": [
                  {"row": 3, "field": "CCCD", "value": CITIZEN_ID, "reason": "trùng với dòng 2",
                   "reason_en": "duplicates row 2"},
                  {"row": 4, "field": "head_of_household", "value": HEAD, "reason": "quá dài",
                   "reason_en": "too long"},
                  {"row": 5, "field": "Mã hộ", "value": "HO-9", "reason": "trùng với dòng 4",
                   "reason_en": "duplicates row 4"},
                  {"row": 6, "field": "khong_co", "value": "bí mật", "reason": "trùng",
                   "reason_en": "duplicates row 5"}]}
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO import_jobs (layer, dataset, file_name, file_sha256, file_size, "
                    "actor, status, report) VALUES ('housing', 'cu', 'cu.csv', '0', 1, 'deped1', "
                    "'rejected', %s) RETURNING id", (json.dumps(report),))
        job = cur.fetchone()[0]
    got = client.get(f"/api/v1/imports/{job}", headers=bearer(tokens["leader1"])).json()
    assert [e["value"] for e in got["errors"]] == ["***", "***", "HO-9", "***"]
    csv_text = client.get(f"/api/v1/imports/{job}/report.csv", headers=bearer(tokens["op1"])).text
    assert CITIZEN_ID not in csv_text and HEAD not in csv_text and "HO-9" in csv_text
