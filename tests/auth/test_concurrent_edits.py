"""Racing writers against a live server: whatever the timing, the database decides and nothing is
lost. Each race runs its clients in threads, each with its own HTTP connection, released together;
every race is repeated so that a check made without holding the row fails."""

import json
import threading
import time
import uuid
from collections.abc import Callable

import httpx
import psycopg2
import pytest

from tests.auth.conftest import PASSWORD
from tests.auth.test_field import make_jpeg
from tests.conftest import wait_for_job

ROUNDS = 10
GEOJSON = "application/geo+json"


Request = tuple[str, str, dict]


def race(*requests: Request) -> list[httpx.Response]:
    """Send ``(method, url, options)`` requests at the same moment, each on its own connection."""
    gate = threading.Barrier(len(requests))
    results: list[httpx.Response | BaseException | None] = [None] * len(requests)

    def send(n: int, method: str, url: str, options: dict) -> None:
        with httpx.Client(timeout=120) as http:
            gate.wait()
            try:
                results[n] = http.request(method, url, **options)
            except BaseException as err:  # noqa: BLE001 - raised below, in the test's thread
                results[n] = err

    threads = [threading.Thread(target=send, args=(n, *request))
               for n, request in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results  # type: ignore[return-value]


@pytest.fixture(scope="module")
def editors(client, database_url, tokens):
    """Bearer headers of the schools' department (so_gd_dt): two editors and a leader; the operator."""
    from gis_core.db import engine_for
    from governance import accounts

    names = {"gd-editor1": "department_editor", "gd-editor2": "department_editor",
             "gd-leader": "leader"}
    with engine_for(database_url).begin() as conn:
        existing = {a["username"] for a in accounts.list_accounts(conn)}
        for name, role in names.items():
            if name not in existing:
                accounts.create_account(conn, username=name, role=role, password=PASSWORD,
                                        department="so_gd_dt")
    out = {"op": {"Authorization": f"Bearer {tokens['op1']}"}}
    for name in names:
        token = client.post("/api/v1/auth/token",
                            json={"username": name, "password": PASSWORD}).json()["access_token"]
        out[name] = {"Authorization": f"Bearer {token}"}
    return out


def _sql(database_url, query, params=()):
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute(query, params)
        return cur.fetchall() if cur.description else None


def new_school(live_url, database_url, headers, name):
    """A school made by the operator for one round; its id."""
    [(lon, lat)] = _sql(database_url, "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p "
                        "FROM communes ORDER BY code LIMIT 1) s")
    body = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {"name": name, "level": "primary", "students": 150, "capacity": 200}}
    created = httpx.post(f"{live_url}/ogc/collections/schools/items", json=body,
                         headers={**headers, "content-type": GEOJSON})
    assert created.status_code == 201, created.text
    return created.json()["id"]


def etag_of(live_url, headers, fid):
    got = httpx.get(f"{live_url}/ogc/collections/schools/items/{fid}", headers=headers)
    assert got.status_code == 200, got.text
    return got.headers["etag"], got.json()


def _history(database_url, fid):
    return _sql(database_url, "SELECT op, source FROM feature_history WHERE layer = 'schools' "
                "AND feature_id = %s ORDER BY id", (fid,))


def _write(method: str, url: str, headers: dict, feature: dict, students: int) -> Request:
    if method == "DELETE":
        return method, url, {"headers": headers}
    if method == "PATCH":
        body = {"type": "Feature", "properties": {"students": students}}
    else:
        body = {**feature, "properties": {**feature["properties"], "students": students}}
    return method, url, {"headers": {**headers, "content-type": GEOJSON},
                         "content": json.dumps(body)}


@pytest.mark.parametrize("method", ["PATCH", "PUT", "DELETE"])
def test_two_writes_with_one_etag_exactly_one_wins(live_url, database_url, editors, method):
    op = editors["op"]
    lost = []
    for n in range(ROUNDS):
        fid = new_school(live_url, database_url, op, f"Trường đua {method} {n}")
        etag, feature = etag_of(live_url, op, fid)
        url = f"{live_url}/ogc/collections/schools/items/{fid}"
        headers = {**op, "If-Match": etag}
        first, second = race(_write(method, url, headers, feature, 300 + n),
                             _write(method, url, headers, feature, 400 + n))
        won = 204 if method == "DELETE" else 200
        if sorted([first.status_code, second.status_code]) != [won, 412]:
            lost.append(f"round {n}: {first.status_code} {first.text} / {second.status_code} "
                        f"{second.text}; history {_history(database_url, fid)}")
            continue
        loser = first if first.status_code == 412 else second
        assert loser.headers["content-type"] == "application/problem+json"
        applied = [op for op, source in _history(database_url, fid) if source == "edit:direct"]
        assert applied == ["insert", "delete" if method == "DELETE" else "update"], applied
        if method != "DELETE":
            students = 300 + n if first.status_code == 200 else 400 + n
            assert etag_of(live_url, op, fid)[1]["properties"]["students"] == students
    assert not lost, f"{len(lost)} of {ROUNDS} rounds did not have exactly one winner: {lost}"


def _pending(http_or_module, live_url, headers, fid, body, if_match=None, media=GEOJSON):
    extra = {"If-Match": if_match} if if_match else {}
    response = http_or_module.patch(f"{live_url}/ogc/collections/schools/items/{fid}",
                                    content=json.dumps(body),
                                    headers={**headers, "content-type": media, **extra})
    assert response.status_code == 202, response.text
    return response.json()["edit_id"]


def test_two_approvals_of_edits_from_one_version_only_one_applies(live_url, database_url, editors):
    both = []
    for n in range(ROUNDS):
        fid = new_school(live_url, database_url, editors["op"], f"Trường duyệt {n}")
        etag, _ = etag_of(live_url, editors["gd-editor1"], fid)
        first = _pending(httpx, live_url, editors["gd-editor1"], fid,
                         {"type": "Feature", "properties": {"students": 500 + n}}, etag)
        second = _pending(httpx, live_url, editors["gd-editor1"], fid,
                          {"type": "Feature", "properties": {"classrooms": 20 + n}}, etag)
        approvals = race(
            ("POST", f"{live_url}/api/v1/edits/{first}/approve", {"headers": editors["gd-leader"]}),
            ("POST", f"{live_url}/api/v1/edits/{second}/approve", {"headers": editors["op"]}))
        statuses = sorted(a.status_code for a in approvals)
        if statuses != [200, 412]:
            both.append(f"round {n}: {statuses} {[a.text for a in approvals]}")
            continue
        applied = [source for op, source in _history(database_url, fid) if op == "update"]
        assert len(applied) == 1, applied
        states = _sql(database_url, "SELECT status FROM pending_edits WHERE id IN (%s, %s) "
                      "ORDER BY status", (first, second))
        assert [s for (s,) in states] == ["approved", "pending"]
    assert not both, f"{len(both)} of {ROUNDS} rounds applied both edits or neither: {both}"


MERGE_PATCH = "application/merge-patch+json"


@pytest.mark.parametrize("fields", [("students", "classrooms"), ("students", "students")])
def test_editors_without_etags_keep_different_fields_and_never_lose_the_same_one(
        live_url, database_url, editors, fields):
    """Two editors' QGIS-style merge patches (no If-Match) made from one version, approved at once:
    different fields both apply; the same field applies once, the other answers 412 with the
    conflict field by field."""
    problems = []
    for n in range(ROUNDS):
        fid = new_school(live_url, database_url, editors["op"], f"Trường hai người {n}")
        first = _pending(httpx, live_url, editors["gd-editor1"], fid,
                         {"properties": {fields[0]: 600 + n}}, media=MERGE_PATCH)
        second = _pending(httpx, live_url, editors["gd-editor2"], fid,
                          {"properties": {fields[1]: 700 + n}}, media=MERGE_PATCH)
        approvals = race(
            ("POST", f"{live_url}/api/v1/edits/{first}/approve", {"headers": editors["gd-leader"]}),
            ("POST", f"{live_url}/api/v1/edits/{second}/approve", {"headers": editors["op"]}))
        stored = etag_of(live_url, editors["op"], fid)[1]["properties"]
        statuses = [a.status_code for a in approvals]
        if fields[0] != fields[1]:
            if statuses != [200, 200] or (stored[fields[0]], stored[fields[1]]) != (600 + n, 700 + n):
                problems.append(f"round {n}: {statuses} {stored}")
            continue
        if sorted(statuses) != [200, 412]:
            problems.append(f"round {n}: {statuses} {[a.text for a in approvals]}")
            continue
        won, lost = (approvals[0], approvals[1]) if statuses[0] == 200 else approvals[::-1]
        assert stored["students"] == (600 + n if won is approvals[0] else 700 + n)
        conflict = lost.json()["conflicts"]
        assert conflict == [{"field": "students", "submitted_against": 150,
                             "now": stored["students"], "proposed": 1300 + 2 * n - stored["students"]}]
    assert not problems, f"{len(problems)} of {ROUNDS} rounds went wrong: {problems}"


def test_the_same_field_submission_twice_at_once_gives_the_first_back(
        live_url, database_url, tokens, communes):
    [(lon, lat)] = _sql(database_url, "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p "
                        "FROM communes WHERE code = %s) s", (communes[0],))
    headers = {"Authorization": f"Bearer {tokens['field1']}"}
    failed = []
    for n in range(ROUNDS):
        photo = make_jpeg(lon, lat, taken=f"2026:11:30 10:{n:02d}:00")
        record = {"client_uuid": str(uuid.uuid4()), "position_source": "exif",
                  "fields": {"household_code": f"HT-RACE-{n}", "head_of_household": "Lò Thị Hoa",
                             "members": 3, "poverty_status": "poor", "house_type": "temporary"}}
        send = ("POST", f"{live_url}/api/v1/field/households", {
            "headers": headers, "data": {"data": json.dumps(record, ensure_ascii=False)},
            "files": {"photo": ("nha.jpg", photo, "image/jpeg")}})
        first, second = race(send, send)
        if sorted([first.status_code, second.status_code]) != [200, 201]:
            failed.append(f"round {n}: {first.status_code} {first.text} / {second.status_code} "
                          f"{second.text}")
            continue
        assert first.json()["id"] == second.json()["id"]
        [(count,)] = _sql(database_url, "SELECT count(*) FROM pending_edits WHERE client_uuid = %s",
                          (record["client_uuid"],))
        assert count == 1
    assert not failed, f"{len(failed)} of {ROUNDS} rounds did not answer 201 then 200: {failed}"


def _waiting(database_url) -> int:
    [(count,)] = _sql(database_url, "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                      "current_database() AND wait_event_type = 'Lock'")
    return count


def _until_waiting(database_url, count: int, thread: threading.Thread) -> None:
    """Until ``count`` sessions wait for a lock (or ``thread`` is done)."""
    deadline = time.monotonic() + 60
    while _waiting(database_url) < count and thread.is_alive():
        assert time.monotonic() < deadline, f"{count} sessions never waited for a lock"
        time.sleep(0.02)


def _in_thread(results: dict, key: str, call: Callable, *args) -> threading.Thread:
    thread = threading.Thread(target=lambda: results.update({key: call(*args)}))
    thread.start()
    return thread


def _schools_file(database_url, tmp_path, n, students):
    [(lon, lat, code)] = _sql(database_url, "SELECT ST_X(p), ST_Y(p), code FROM (SELECT "
                              "ST_PointOnSurface(geom) p, code FROM communes ORDER BY code "
                              "LIMIT 1) s")
    features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
                 "properties": {"name": f"Trường nhập {i}", "level": "primary",
                                "students": students + i, "commune_code": code}}
                for i in range(3)]
    path = tmp_path / f"truong_{n}.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    return path


def _import(live_url, headers, path):
    """The import's outcome: queued, then run by the session's worker process."""
    with open(path, "rb") as handle:
        queued = httpx.post(f"{live_url}/api/v1/layers/schools/imports", headers=headers,
                            files={"file": (path.name, handle, GEOJSON)},
                            data={"dataset": "race-import"}, timeout=120)
    return wait_for_job(lambda url, headers: httpx.get(live_url + url, headers=headers, timeout=30),
                        queued, headers)


def _edit_during_import(live_url, database_url, op, held, edited, path) -> dict[str, httpx.Response]:
    """The edit arrives while the import is merging (held back by a row lock the test holds)."""
    etag, _ = etag_of(live_url, op, edited)
    results: dict[str, httpx.Response] = {}
    blocker = psycopg2.connect(database_url)
    try:
        with blocker.cursor() as cur:
            cur.execute("SELECT 1 FROM schools WHERE id = %s FOR UPDATE", (held,))
        importer = _in_thread(results, "import", _import, live_url, op, path)
        _until_waiting(database_url, 1, importer)
        editor = _in_thread(results, "edit", _patch, f"{live_url}/ogc/collections/schools/items/"
                            f"{edited}", {**op, "If-Match": etag},
                            {"type": "Feature", "properties": {"students": 7}})
        _until_waiting(database_url, 2, editor)
    finally:
        blocker.rollback()
        blocker.close()
    importer.join()
    editor.join()
    return results


def _patch(url: str, headers: dict, body: dict) -> httpx.Response:
    return httpx.patch(url, content=json.dumps(body), timeout=120,
                       headers={**headers, "content-type": GEOJSON})


def test_an_edit_made_before_an_import_does_not_overwrite_it(live_url, database_url, editors,
                                                             tmp_path, job_worker):
    """The import holds its rows while it merges; an edit whose ETag the import made stale waits
    for it and gets 412, never an overwrite of the import's values."""
    op = editors["op"]
    first = _import(live_url, op, _schools_file(database_url, tmp_path, "base", 100))
    assert first.status_code == 201, first.text
    ids = dict(_sql(database_url, "SELECT source_key, id FROM schools WHERE source_dataset = "
                    "'race-import'"))
    held, edited = ids["Trường nhập 0"], ids["Trường nhập 1"]
    for n in range(3):
        path = _schools_file(database_url, tmp_path, n, 1000 * (n + 2))
        results = _edit_during_import(live_url, database_url, op, held, edited, path)
        assert results["import"].status_code == 201, results["import"].text
        assert results["edit"].status_code == 412, f"round {n}: {results['edit'].text}"
        [(students,)] = _sql(database_url, "SELECT students FROM schools WHERE id = %s", (edited,))
        assert students == 1000 * (n + 2) + 1
