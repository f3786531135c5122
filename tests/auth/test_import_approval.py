"""Imports follow the rule of edits: an API client's or a department editor's file is checked and
held as a pending import beside the pending edits; an approver applies it after checking it again
against the data of that moment; a dataset changed meanwhile makes the approval a 412."""

from __future__ import annotations

import csv
import io
import threading

import httpx
import psycopg2
import pytest

from tests.auth.conftest import audit_head, audit_rows, bearer
from tests.conftest import wait_for_job

# Imports are queued jobs: a worker process runs them.
pytestmark = pytest.mark.usefixtures("job_worker")

SCHOOL_HEADER = ["Tên", "Cấp học", "Số học sinh", "Mã xã", "kinh_do", "vi_do"]
TREE_HEADER = ["Loài cây", "Chiều cao (m)", "Tình trạng", "kinh_do", "vi_do"]
GEOJSON = "application/geo+json"


def _csv(header, rows) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode()


def _upload(client, layer, body, headers, dataset, name="tep.csv"):
    return wait_for_job(client.get, client.post(
        f"/api/v1/layers/{layer}/imports", headers=headers,
        files={"file": (name, body, "text/csv")}, data={"dataset": dataset}), headers)


def _sql(database_url, query, *params):
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute(query, params)
        return cur.fetchall() if cur.description else None


def _count(database_url, layer, dataset=None):
    if dataset is None:
        return _sql(database_url, f"SELECT count(*) FROM {layer}")[0][0]  # noqa: S608
    return _sql(database_url, f"SELECT count(*) FROM {layer} WHERE source_dataset = %s",  # noqa: S608
                dataset)[0][0]


def _place(database_url, code):
    return _sql(database_url, "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p "
                "FROM communes WHERE code = %s) s", code)[0]


def _large_objects(database_url):
    return _sql(database_url, "SELECT count(*) FROM pg_largeobject_metadata")[0][0]


@pytest.fixture(scope="module")
def school_client(database_url):
    """An API client allowed to write schools (the key of a partner system)."""
    from gis_core.db import engine_for
    from governance import accounts

    with engine_for(database_url).begin() as conn:
        _, key = accounts.create_api_client(conn, username="t-school-sync",
                                            scopes=("write:schools",))
    return {"X-API-Key": key}


@pytest.fixture(scope="module")
def education(staff):
    """An approver of the schools layer's department."""
    return staff("leader", "so_gd_dt")


def _schools(database_url, communes, n, prefix="Trường đồng bộ"):
    home, _ = communes
    lon, lat = _place(database_url, home)
    return [[f"{prefix} {i}", "Tiểu học", 100 + i, home, lon + i * 1e-4, lat] for i in range(n)]


def test_an_api_client_with_write_scope_imports_only_as_a_pending_import(
        client, school_client, education, communes, database_url):
    """The issue's case: the key's PATCH was pending while its import went straight in."""
    before = _count(database_url, "schools")
    fid = _sql(database_url, "SELECT min(id) FROM schools")[0][0]
    etag = client.get(f"/ogc/collections/schools/items/{fid}", headers=school_client).headers["etag"]
    patched = client.patch(f"/ogc/collections/schools/items/{fid}",
                           json={"type": "Feature", "properties": {"students": 999}},
                           headers={**school_client, "content-type": GEOJSON, "If-Match": etag})
    assert patched.status_code == 202
    since = audit_head(database_url)
    response = _upload(client, "schools", _csv(SCHOOL_HEADER, _schools(database_url, communes, 1)),
                       school_client, "dong_bo")
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] == "pending" and body["report"]["added"] == 1
    assert response.headers["location"].endswith(f"/api/v1/edits/{body['edit_id']}")
    assert _count(database_url, "schools") == before  # nothing applied yet
    assert _sql(database_url, "SELECT status FROM import_jobs WHERE id = %s",
                body["job"]) == [("pending",)]
    submitted = audit_rows(database_url, since, "import.submit")
    assert [(r[1], r[5]["job"]) for r in submitted] == [("t-school-sync", body["job"])]
    # Listed beside the client's pending PATCH, for the department's approver.
    listed = {e["id"]: e for e in client.get("/api/v1/edits", headers=education).json()}
    assert listed[body["edit_id"]]["op"] == "import"
    assert listed[body["edit_id"]]["links"]["import"] == f"/api/v1/imports/{body['job']}"
    assert listed[body["edit_id"]]["properties"]["added"] == 1
    assert patched.json()["edit_id"] in listed
    assert client.get(f"/api/v1/imports/{body['job']}", headers=education).status_code == 200
    # The client sees its own submission but approves nothing.
    assert client.get(body["links"]["edit"], headers=school_client).status_code == 200
    assert client.post(f"/api/v1/edits/{body['edit_id']}/approve",
                       headers=school_client).status_code == 403
    approved = client.post(f"/api/v1/edits/{body['edit_id']}/approve", headers=education)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    assert _count(database_url, "schools") == before + 1
    job = client.get(f"/api/v1/imports/{body['job']}", headers=education).json()
    assert job["status"] == "imported" and job["added"] == 1
    assert job["actor"] == "t-school-sync" and job["reviewer"] == "t-leader-so-gd-dt"
    fid = _sql(database_url, "SELECT id FROM schools WHERE source_dataset = 'dong_bo'")[0][0]
    history = client.get(f"/api/v1/layers/schools/features/{fid}/history",
                         headers=education).json()["changes"]
    assert history[0]["source"] == f"import:{body['job']}"
    assert history[0]["actor"] == "t-leader-so-gd-dt"


def test_department_editors_imports_wait_for_another_approver(client, tokens, communes,
                                                              database_url):
    home, _ = communes
    lon, lat = _place(database_url, home)
    body = _csv(TREE_HEADER, [["Pơ mu", 5, "Tốt", lon, lat]])
    response = _upload(client, "trees", body, bearer(tokens["deped1"]), "cay_cho_duyet")
    assert response.status_code == 202
    edit_id = response.json()["edit_id"]
    assert _count(database_url, "trees", "cay_cho_duyet") == 0
    assert client.post(f"/api/v1/edits/{edit_id}/approve",
                       headers=bearer(tokens["deped1"])).status_code == 403  # not one's own
    assert client.post(f"/api/v1/edits/{edit_id}/approve",
                       headers=bearer(tokens["healthed"])).status_code == 403
    approved = client.post(f"/api/v1/edits/{edit_id}/approve", headers=bearer(tokens["deped2"]))
    assert approved.status_code == 200
    assert _count(database_url, "trees", "cay_cho_duyet") == 1
    # The operator's own import applies at once.
    direct = _upload(client, "trees", body, bearer(tokens["op1"]), "cay_truc_tiep")
    assert direct.status_code == 201 and _count(database_url, "trees", "cay_truc_tiep") == 1
    # A dry run shows what would change and writes nothing, whoever asks.
    dry = wait_for_job(client.get, client.post(
        "/api/v1/layers/trees/imports", headers=bearer(tokens["deped1"]),
        files={"file": ("thu.csv", body, "text/csv")},
        data={"dataset": "cay_thu", "dry_run": "true"}), bearer(tokens["deped1"]))
    assert dry.status_code == 200 and dry.json()["status"] == "dry_run"
    assert _count(database_url, "trees", "cay_thu") == 0


def test_a_rejected_file_is_refused_at_once_and_held_nowhere(client, school_client, communes,
                                                             database_url):
    rows = _schools(database_url, communes, 2, "Trường lỗi")
    rows[1][2] = "nhiều"
    files = _large_objects(database_url)
    response = _upload(client, "schools", _csv(SCHOOL_HEADER, rows), school_client, "loi_ngay")
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "students"
    assert _sql(database_url, "SELECT count(*) FROM pending_edits WHERE import_job = %s",
                response.json()["job"]) == [(0,)]
    assert _large_objects(database_url) == files


def test_approval_is_412_when_the_dataset_changed_since_submission(
        client, school_client, education, communes, database_url, tokens):
    rows = _schools(database_url, communes, 2, "Trường xung đột")
    first = _upload(client, "schools", _csv(SCHOOL_HEADER, rows), school_client, "xung_dot")
    assert client.post(f"/api/v1/edits/{first.json()['edit_id']}/approve",
                       headers=education).status_code == 200
    # Two newer versions of the same dataset wait; someone edits a record of it meanwhile.
    rows[0][2] = 500
    second = _upload(client, "schools", _csv(SCHOOL_HEADER, rows), school_client, "xung_dot")
    rows[1][2] = 600
    third = _upload(client, "schools", _csv(SCHOOL_HEADER, rows), school_client, "xung_dot")
    assert second.status_code == third.status_code == 202
    fid = _sql(database_url, "SELECT id FROM schools WHERE source_dataset = 'xung_dot' "
               "ORDER BY id LIMIT 1")[0][0]
    url = f"/ogc/collections/schools/items/{fid}"
    etag = client.get(url, headers=bearer(tokens["op1"])).headers["etag"]
    edited = client.patch(url, json={"type": "Feature", "properties": {"students": 321}},
                          headers={**bearer(tokens["op1"]), "content-type": GEOJSON,
                                   "If-Match": etag})
    assert edited.status_code == 200
    refused = client.post(f"/api/v1/edits/{second.json()['edit_id']}/approve", headers=education)
    assert refused.status_code == 412 and "xung_dot" in refused.json()["detail_en"]
    assert _sql(database_url, "SELECT students FROM schools WHERE id = %s", fid) == [(321,)]
    edit = client.get(f"/api/v1/edits/{second.json()['edit_id']}", headers=education).json()
    assert edit["status"] == "pending"  # left for the approver to reject
    # Decline it: its file goes, its job says so.
    files = _large_objects(database_url)
    declined = client.post(f"/api/v1/edits/{second.json()['edit_id']}/reject", headers=education,
                           json={"reason": "Dữ liệu đã được sửa tay sau khi gửi"})
    assert declined.status_code == 200
    assert _large_objects(database_url) == files - 1
    job = client.get(f"/api/v1/imports/{second.json()['job']}", headers=education).json()
    assert job["status"] == "declined" and job["review_reason"].startswith("Dữ liệu")
    # A change elsewhere in the layer does not stand in the way.
    other = _upload(client, "schools", _csv(SCHOOL_HEADER, _schools(
        database_url, communes, 1, "Trường khác")), school_client, "bo_khac")
    assert client.post(f"/api/v1/edits/{other.json()['edit_id']}/approve",
                       headers=education).status_code == 200
    fourth = _upload(client, "schools", _csv(SCHOOL_HEADER, rows), school_client, "xung_dot")
    third_id = third.json()["edit_id"]
    assert client.post(f"/api/v1/edits/{third_id}/approve", headers=education).status_code == 412
    assert client.post(f"/api/v1/edits/{fourth.json()['edit_id']}/approve",
                       headers=education).status_code == 200
    assert sorted(r[0] for r in _sql(database_url, "SELECT students FROM schools WHERE "
                                     "source_dataset = 'xung_dot'")) == [500, 600]


def test_approval_checks_the_file_again_against_todays_data(
        client, school_client, education, communes, database_url):
    """A commune code valid at submission but withdrawn before approval: 422, still pending."""
    home, other = communes
    rows = _schools(database_url, communes, 1, "Trường kiểm lại")
    response = _upload(client, "schools", _csv(SCHOOL_HEADER, rows), school_client, "kiem_lai")
    assert response.status_code == 202
    edit_id = response.json()["edit_id"]
    _sql(database_url, "UPDATE communes SET code = 'TAM' || code WHERE code = %s", home)
    try:
        again = client.post(f"/api/v1/edits/{edit_id}/approve", headers=education)
    finally:
        _sql(database_url, "UPDATE communes SET code = %s WHERE code = %s", home, "TAM" + home)
    assert again.status_code == 422
    assert again.json()["errors"][0]["field"] == "commune_code"
    assert _count(database_url, "schools", "kiem_lai") == 0
    assert client.get(f"/api/v1/edits/{edit_id}", headers=education).json()["status"] == "pending"
    assert client.post(f"/api/v1/edits/{edit_id}/approve", headers=education).status_code == 200
    assert _count(database_url, "schools", "kiem_lai") == 1


def _concurrently(url, calls):
    """Run ``calls`` (method, path, headers) at once, each on its own HTTP connection."""
    barrier = threading.Barrier(len(calls))
    out = [None] * len(calls)

    def run(n, path, headers):
        with httpx.Client(base_url=url, timeout=60) as http:
            barrier.wait()
            out[n] = http.post(path, headers=headers).status_code

    threads = [threading.Thread(target=run, args=(n, path, headers))
               for n, (path, headers) in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return out


@pytest.mark.parametrize("round_", range(5))
def test_concurrent_approvals_of_one_dataset_apply_exactly_one(
        live_url, client, school_client, education, staff, communes, database_url, round_):
    """Two approvers approve two pending versions of one dataset at the same moment."""
    dataset = f"dong_thoi_{round_}"
    rows = _schools(database_url, communes, 3, f"Trường đồng thời {round_}")
    edits = []
    for students in (700, 800):
        rows[0][2] = students
        response = _upload(client, "schools", _csv(SCHOOL_HEADER, rows), school_client, dataset)
        edits.append(response.json()["edit_id"])
    other = staff("department_editor", "so_gd_dt")
    statuses = _concurrently(live_url, [(f"/api/v1/edits/{edits[0]}/approve", education),
                                        (f"/api/v1/edits/{edits[1]}/approve", other)])
    assert sorted(statuses) == [200, 412]
    assert _count(database_url, "schools", dataset) == 3
    # The same pending import approved twice at once: applied once.
    rows[0][2] = 900
    again = _upload(client, "schools", _csv(SCHOOL_HEADER, rows), school_client, dataset)
    edit = again.json()["edit_id"]
    statuses = _concurrently(live_url, [(f"/api/v1/edits/{edit}/approve", education),
                                        (f"/api/v1/edits/{edit}/approve", other)])
    assert sorted(statuses) == [200, 409]
    assert _sql(database_url, "SELECT count(*) FROM import_jobs WHERE status = 'imported' "
                "AND id = %s", again.json()["job"]) == [(1,)]
