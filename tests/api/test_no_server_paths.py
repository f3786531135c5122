"""No message a client reads names where the server keeps its files."""

from __future__ import annotations

import json
import tempfile

import pytest

from tests.conftest import wait_for_job

TMP = tempfile.gettempdir()
# Imports are queued jobs: a worker process runs them.
pytestmark = pytest.mark.usefixtures("job_worker")


@pytest.fixture(scope="module")
def editor(staff):
    return staff("department_editor", "so_xay_dung")


@pytest.mark.parametrize("name,content", [
    ("rỗng.geojson", b""),
    ("hong.geojson", b'{"type": "FeatureCollection", "features": [ {"type": '),
    ("hong.gpkg", b"SQLite format 3\x00 not really"),
    ("hong.kml", b"<kml><Document><Placemark>"),
    ("hong.xlsx", b"PK\x03\x04 not a workbook"),
])
def test_unreadable_uploads_name_the_file_not_the_server_folder(client, editor, name, content):
    response = wait_for_job(client.get, client.post(
        "/api/v1/layers/trees/imports", headers=editor,
        files={"file": (name, content, "application/octet-stream")}), editor)
    assert response.status_code in (400, 422), response.text
    text = response.text
    assert TMP not in text and "ioc-upload-" not in text and "ioc-import-" not in text, text
    body = response.json()
    assert name in body["detail"] and name in body["detail_en"]
    if "job" in body:
        stored = client.get(f"/api/v1/imports/{body['job']}", headers=editor)
        assert TMP not in json.dumps(stored.json(), ensure_ascii=False)


def test_the_problem_renderer_cuts_any_server_path(client):
    """Whatever slips through, the one place that renders problems strips server folders."""
    from api.errors import SERVER_ROOTS, problem

    detail = f"Cannot read '{TMP}/ioc-upload-x1y2/tệp.geojson': not recognized"
    body = json.loads(problem(400, "t", detail, code="c", detail_en=detail,
                              extra={"errors": [{"why": f"{sorted(SERVER_ROOTS)[0]}/a/b.csv"}]}).body)
    assert body["detail"] == "Cannot read 'tệp.geojson': not recognized"
    assert body["errors"][0]["why"] == "b.csv"
    assert "/ogc/collections/communes/items" in json.loads(problem(
        404, "t", "See /ogc/collections/communes/items", code="c").body)["detail"]
