"""Uploads over HTTP: a job and its report, 422 with every bad row, 413 over the size limit."""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import create_engine

from gis_core.db import to_sqlalchemy_url
from tests.conftest import wait_for_job

# Imports are queued jobs: a worker process runs them.
pytestmark = pytest.mark.usefixtures("job_worker")

DATASET = "cay_xanh_tai_len"


@pytest.fixture(scope="module")
def place(database_url):
    engine = create_engine(to_sqlalchemy_url(database_url))
    with engine.connect() as conn:
        found = conn.exec_driver_sql(
            "SELECT code, ST_X(p), ST_Y(p) FROM (SELECT code, ST_PointOnSurface(geom) p "
            "FROM communes ORDER BY code LIMIT 1) s").one()
    yield found
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DELETE FROM trees WHERE source_dataset = '{DATASET}'")  # noqa: S608
    engine.dispose()


def upload(client, rows, headers=None, **form):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["Loài cây", "Chiều cao (m)", "Tình trạng", "kinh_do", "vi_do"])
    writer.writerows(rows)
    files = {"file": ("cây xanh.csv", buffer.getvalue().encode(), "text/csv")}
    return wait_for_job(client.get, client.post(
        "/api/v1/layers/trees/imports", files=files, headers=headers,
        data={"dataset": DATASET, **form}), headers)


@pytest.fixture(scope="module")
def editor(staff):
    """An editor of the department that owns the trees layer."""
    return staff("department_editor", "so_xay_dung")


def test_only_the_owning_department_the_operator_or_a_writing_client_may_import(
        client, place, staff, reader):
    code, lon, lat = place
    rows = [["Pơ mu", 3, "Tốt", lon, lat]]
    assert upload(client, rows).status_code == 401
    for role, department in (("viewer", None), ("department_editor", "so_y_te"),
                             ("leader", "so_xay_dung"), ("field_staff", None)):
        refused = upload(client, rows, headers=staff(role, department))
        assert refused.status_code == 403 and "so_xay_dung" not in refused.json()["detail_en"]
        assert "write:trees" in refused.json()["detail_en"]
    assert upload(client, rows, headers=reader).status_code == 403
    assert client.get("/api/v1/imports/1").status_code == 401


def test_the_operators_upload_applies_at_once_with_the_job_and_its_report(
        client, place, staff, database_url):
    code, lon, lat = place
    operator = staff("operator")
    response = upload(client, [["Pơ mu", "12,5", "Tốt", lon, lat], ["Sa mộc", 8, "Kém", lon, lat]],
                      headers=operator)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "imported" and body["report"]["added"] == 2
    assert body["report"]["mapping"]["species"] == "Loài cây"
    job = client.get(body["links"]["job"], headers=operator).json()
    assert job["file_name"] == "cây xanh.csv" and job["added"] == 2
    assert job["actor"] == "t-operator-all"
    engine = create_engine(to_sqlalchemy_url(database_url))
    with engine.connect() as conn:
        logged = conn.exec_driver_sql(
            "SELECT actor, details->>'job' FROM audit_log WHERE action = 'import' "
            "ORDER BY seq DESC LIMIT 1").one()
    engine.dispose()
    assert logged == ("t-operator-all", str(body["job"]))
    again = upload(client, [["Pơ mu", "12,5", "Tốt", lon, lat], ["Sa mộc", 8, "Kém", lon, lat]],
                   headers=operator)
    assert again.json()["status"] == "unchanged"
    items = client.get("/ogc/collections/trees/items",
                       params={"filter": "species = 'Pơ mu'", "limit": 100}).json()
    assert any(f["properties"]["height_m"] == 12.5 for f in items["features"])


def test_rejected_upload_is_422_with_every_bad_row_and_a_csv_report(client, place, editor):
    code, lon, lat = place
    before = client.get("/api/v1/layers/trees").json()["features"]
    response = upload(client, [["Pơ mu", "cao", "Tốt", lon, lat], ["", 3, "Héo", lon, lat]],
                      headers=editor)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert [(e["row"], e["field"]) for e in body["errors"]] == [
        (2, "height_m"), (3, "condition"), (3, "species")]
    assert body["detail_en"].startswith("File 'cây xanh.csv' rejected")
    report = client.get(body["links"]["report_csv"], headers=editor)
    assert report.status_code == 200 and "height_m" in report.text
    assert client.get("/api/v1/layers/trees").json()["features"] == before


def test_bad_parameters_and_oversized_uploads(client, editor):
    response = client.post("/api/v1/layers/trees/imports", data={"crs": "EPSG:9205"},
                           files={"file": ("a.csv", b"x", "text/csv")},
                           headers={"content-length": str(10**12), **editor})
    assert response.status_code == 413 and "MB" in response.json()["detail"]
    response = client.post("/api/v1/layers/nope/imports", files={"file": ("a.csv", b"x")},
                           headers=editor)
    assert response.status_code == 404
    response = client.post("/api/v1/layers/trees/imports", files={"file": ("a.csv", b"x")},
                           data={"mapping": "[1, 2"}, headers=editor)
    assert response.status_code == 400 and response.json()["parameter"] == "mapping"
    assert client.get("/api/v1/imports/987654", headers=editor).status_code == 404


def test_features_as_of_and_history_over_http(client, place):
    response = client.get("/api/v1/layers/trees/features", params={"as_of": "2000-01-01"})
    assert response.status_code == 200 and response.json()["features"] == []
    now = client.get("/api/v1/layers/trees/features", params={"as_of": "2999-01-01",
                                                               "limit": 1}).json()
    assert now["numberMatched"] > 0
    fid = now["features"][0]["id"]
    history = client.get(f"/api/v1/layers/trees/features/{fid}/history").json()
    assert history["changes"][0]["op"] == "insert"
    bad = client.get("/api/v1/layers/trees/features", params={"as_of": "hôm qua"})
    assert bad.status_code == 400 and bad.json()["parameter"] == "as_of"


def test_hostile_uploads_are_422_saying_what_to_change(client, place, staff):
    """Each of these was a 500: a polygon ring left open, a CSV cell past the csv limit."""
    code, lon, lat = place
    operator = staff("operator")
    ring = [[lon, lat], [lon + 1e-3, lat], [lon + 1e-3, lat + 1e-3], [lon, lat + 1e-3]]
    zone = {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
            "properties": {"plan_name": "Khu mở", "plan_level": "master", "land_use": "residential",
                           "decision_number": "1/QĐ-UBND"}}
    before = client.get("/api/v1/layers/planning_zones").json()["features"]
    response = wait_for_job(client.get, client.post(
        "/api/v1/layers/planning_zones/imports", headers=operator, files={
            "file": ("vung.geojson", json.dumps({"type": "FeatureCollection", "features": [zone]}))}),
        operator)
    assert response.status_code == 422, response.text
    assert "ring is not closed" in response.json()["errors"][0]["reason_en"]
    long_cell = f"Loài cây,kinh_do,vi_do\n{'x' * 140_000},{lon},{lat}\n"
    response = wait_for_job(client.get, client.post(
        "/api/v1/layers/trees/imports", headers=operator,
        files={"file": ("dai.csv", long_cell.encode(), "text/csv")}), operator)
    assert response.status_code == 422 and "Line 2" in response.json()["detail_en"]
    assert client.get("/api/v1/layers/planning_zones").json()["features"] == before
