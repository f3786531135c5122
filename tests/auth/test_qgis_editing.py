"""QGIS edits a layer: the requests of its OAPIF provider (QGIS 3.32 and later,
``src/providers/wfs/oapif/`` in the QGIS sources), replayed as it sends them to a live server.

What the provider does (``QgsOapifProvider::init``, ``computeCapabilities``, ``addFeatures``,
``changeAttributeValues``, ``changeGeometryValues``, ``deleteFeatures``):

- opening a layer: GET the landing page, the API document it links (``service-desc``), the
  collection, the conformance classes, the queryables (when CQL2 text is offered) and
  ``items?limit=10`` (with ``crs=`` when the layer is opened in another CRS: Part 2), each with
  its own ``Accept``; then ``OPTIONS`` on ``/items`` and on the first item. ``POST`` in the first
  ``Allow`` lets it add; ``PUT`` and ``DELETE`` in the second let it change and delete, and
  ``PATCH`` there makes it send merge patches instead of whole features;
- adding: ``POST`` the feature (no ``id``, no ``bbox``; every field, null when empty) as
  ``application/geo+json``, with ``Content-Crs`` when the layer is not in CRS84; it takes the new
  id from the ``Location`` header (it needs ``/items/`` there) and then GETs that item;
- changing attributes: ``PATCH`` ``{"properties": {...changed fields...}}`` as
  ``application/merge-patch+json``; moving a geometry: ``PATCH`` ``{"geometry": ...}`` with
  ``Content-Crs``; without PATCH on offer, ``PUT`` of the whole feature (its ``id`` as a string);
- deleting: a bare ``DELETE``.

It never sends ``If-Match`` and takes any 2xx, empty or not, as success. Its JSON is nlohmann's
(keys sorted, no spaces). It signs in through an authentication configuration: here the "API
Header" method adding ``Authorization: Bearer``; the connection's own HTTP headers are not sent
with these requests.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import psycopg2
import pytest

from tests.auth.conftest import PASSWORD

USER_AGENT = "Mozilla/5.0 QGIS/34400/Debian GNU/Linux 12 (bookworm)"
ACCEPT_API = ("application/vnd.oai.openapi+json;version=3.0, "
              "application/openapi+json;version=3.0, application/json")
ACCEPT_ITEMS = "application/geo+json, application/json"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
VN2000 = "http://www.opengis.net/def/crs/EPSG/0/9205"
PART2_CRS = "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs"
CQL2_TEXT = "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text"


def _nlohmann(value: Any) -> bytes:
    """JSON as QGIS writes it (nlohmann::json::dump: sorted keys, compact, UTF-8)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _find_link(links: list[dict], rel: str, types: tuple[str, ...] = ()) -> str | None:
    """QgsOAPIFJson::findLink: the link of that relation, preferring the types in order."""
    best, rank = None, len(types) + 1
    for link in links:
        if link.get("rel") == rel:
            at = types.index(link["type"]) if link.get("type") in types else len(types)
            if at < rank:
                best, rank = link["href"], at
    return best


class QgisOapif:
    """One QGIS OAPIF layer: the requests its provider sends, in its order, on one connection."""

    def __init__(self, url: str, auth: dict[str, str], srsname: str | None = None):
        self.url = url
        self.http = httpx.Client(headers={"User-Agent": USER_AGENT, **auth}, timeout=60,
                                 follow_redirects=True)
        self.srsname = srsname
        self.content_crs: str | None = None
        self.items_url = ""
        self.fields: list[str] = []
        self.log: list[tuple[str, str, int]] = []

    def _send(self, method: str, url: str, **options: Any) -> httpx.Response:
        response = self.http.request(method, url, **options)
        self.log.append((method, url, response.status_code))
        return response

    def _get_json(self, url: str, accept: str) -> Any:
        response = self._send("GET", url, headers={"Accept": accept})
        assert response.status_code == 200, f"QGIS cannot open the layer: GET {url} {response.text}"
        return response.json()

    def open(self, collection: str) -> dict[str, bool]:
        """Open the layer as QGIS does; the editing capabilities it concludes."""
        links = self._get_json(self.url, "application/json")["links"]
        api = _find_link(links, "service-desc", ("application/vnd.oai.openapi+json;version=3.0",
                                                 "application/openapi+json;version=3.0"))
        collections = _find_link(links, "data", ("application/json",))
        conformance = _find_link(links, "conformance")
        assert api and collections and conformance, links
        self._get_json(api, ACCEPT_API)
        collection_url = collections.split("?")[0] + "/" + collection
        self._get_json(collection_url, "application/json")
        classes = self._get_json(conformance, "application/json")["conformsTo"]
        if CQL2_TEXT in classes:
            self._get_json(collection_url + "/queryables", "application/schema+json")
        if self.srsname and PART2_CRS in classes:
            self.content_crs = "http://www.opengis.net/def/crs/EPSG/0/" + self.srsname.split(":")[1]
        self.items_url = collection_url + "/items"
        first = self.items_url + "?limit=10" + (f"&crs={self.content_crs}" if self.content_crs else "")
        features = self._get_json(first, ACCEPT_ITEMS)["features"]
        self.fields = sorted({name for f in features for name in f["properties"]})
        allowed = self._options(self.items_url)
        capabilities = {"add": "POST" in allowed, "change": False, "delete": False, "patch": False}
        if capabilities["add"]:
            test_id = str(features[0]["id"]) if features else "unknown_id"
            one = self._options(f"{self.items_url}/{test_id}")
            capabilities.update(change="PUT" in one, delete="DELETE" in one, patch="PATCH" in one)
        self.patch = capabilities["patch"]
        return capabilities

    def _options(self, url: str) -> list[str]:
        response = self._send("OPTIONS", url)
        return [m.strip() for m in response.headers.get("allow", "").split(",")]

    def _crs_header(self) -> dict[str, str]:
        return {"Content-Crs": self.content_crs} if self.content_crs else {}

    def add(self, properties: dict[str, Any], geometry: dict[str, Any]) -> tuple[str | None, int]:
        """addFeatures: (the id QGIS takes from Location, or None: "Feature creation failed";
        the status of its GET of the new item)."""
        values = {name: properties.get(name) for name in self.fields}
        body = {"geometry": geometry, "properties": values, "type": "Feature"}
        response = self._send("POST", self.items_url, content=_nlohmann(body), headers={
            "Content-Type": "application/geo+json", **self._crs_header()})
        location = response.headers.get("location", "")
        if not response.is_success or "/items/" not in location:
            return None, 0
        new_id = location[location.rindex("/items/") + len("/items/"):]
        reread = self._send("GET", f"{self.items_url}/{new_id}", headers={"Accept": ACCEPT_ITEMS})
        return new_id, reread.status_code

    def change_attributes(self, fid: str, changes: dict[str, Any]) -> httpx.Response:
        """changeAttributeValues with PATCH on offer."""
        assert self.patch
        return self._send("PATCH", f"{self.items_url}/{fid}", content=_nlohmann(
            {"properties": changes}), headers={"Content-Type": "application/merge-patch+json"})

    def change_geometry(self, fid: str, geometry: dict[str, Any]) -> httpx.Response:
        """changeGeometryValues with PATCH on offer."""
        assert self.patch
        return self._send("PATCH", f"{self.items_url}/{fid}", content=_nlohmann(
            {"geometry": geometry}), headers={"Content-Type": "application/merge-patch+json",
                                              **self._crs_header()})

    def replace(self, fid: str, feature: dict[str, Any]) -> httpx.Response:
        """changeAttributeValues where the server offers no PATCH: the whole feature."""
        values = {name: feature["properties"].get(name) for name in self.fields}
        body = {"geometry": feature["geometry"], "id": fid, "properties": values, "type": "Feature"}
        return self._send("PUT", f"{self.items_url}/{fid}", content=_nlohmann(body), headers={
            "Content-Type": "application/geo+json", **self._crs_header()})

    def delete(self, fid: str) -> httpx.Response:
        """deleteFeatures."""
        return self._send("DELETE", f"{self.items_url}/{fid}")


@pytest.fixture(scope="module")
def gd_tokens(client, database_url, tokens):
    """Bearer headers: an editor and the leader of the schools' department (so_gd_dt), the
    operator, a viewer and another department's editor."""
    from gis_core.db import engine_for
    from governance import accounts

    names = {"qgis-gd-editor": "department_editor", "qgis-gd-leader": "leader"}
    with engine_for(database_url).begin() as conn:
        existing = {a["username"] for a in accounts.list_accounts(conn)}
        for name, role in names.items():
            if name not in existing:
                accounts.create_account(conn, username=name, role=role, password=PASSWORD,
                                        department="so_gd_dt")
    out = {name: {"Authorization": f"Bearer {token}"} for name, token in tokens.items()}
    for name in names:
        token = client.post("/api/v1/auth/token",
                            json={"username": name, "password": PASSWORD}).json()["access_token"]
        out[name] = {"Authorization": f"Bearer {token}"}
    return out


def _one(database_url, query, params=()):
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute(query, params)
        return cur.fetchone()


def _vn2000(database_url, lon, lat, east=0.0):
    x, y = _one(database_url, "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Transform(ST_SetSRID("
                "ST_MakePoint(%s, %s), 4326), 9205) p) s", (lon, lat))
    return {"coordinates": [x + east, y], "type": "Point"}


def _lonlat(database_url, point):
    return _one(database_url, "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Transform(ST_SetSRID("
                "ST_MakePoint(%s, %s), 9205), 4326) p) s", tuple(point["coordinates"]))


def _stored(database_url, fid):
    return _one(database_url, "SELECT name, level, students, classrooms, commune_code, ST_X(geom), "
                "ST_Y(geom) FROM schools WHERE id = %s", (int(fid),))


def _history(client, headers, fid):
    response = client.get(f"/api/v1/layers/schools/features/{fid}/history", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["changes"]


def _a_school(database_url, offset):
    return _one(database_url, "SELECT id, ST_X(geom), ST_Y(geom), students FROM schools "
                "WHERE source_dataset IS DISTINCT FROM 'race-import' ORDER BY id OFFSET %s LIMIT 1",
                (offset,))


NEW_SCHOOL = {"name": "Trường PTDTBT Tiểu học Nậm Cuổi", "level": "primary", "students": 120,
              "capacity": 200, "building_type": "semi_permanent"}


def test_qgis_opens_a_layer_for_editing_only_where_the_caller_may_write(live_url, gd_tokens):
    """Anonymous callers, viewers and other departments' editors see a read-only layer."""
    for who, editable in (("op1", True), ("qgis-gd-editor", True), (None, False),
                          ("viewer1", False), ("healthed", False)):
        qgis = QgisOapif(f"{live_url}/ogc", gd_tokens[who] if who else {})
        capabilities = qgis.open("schools")
        expected = {"add": editable, "change": editable, "delete": editable, "patch": editable}
        assert capabilities == expected, (who, qgis.log)
        assert [m for m, _, status in qgis.log if m == "OPTIONS"] == (
            ["OPTIONS", "OPTIONS"] if editable else ["OPTIONS"])
        assert all(status in (200, 204) for _, _, status in qgis.log), qgis.log


def test_qgis_operator_adds_changes_moves_and_deletes_in_vn2000(live_url, database_url, client,
                                                                 gd_tokens):
    qgis = QgisOapif(f"{live_url}/ogc", gd_tokens["op1"], srsname="EPSG:9205")
    assert qgis.open("schools") == {"add": True, "change": True, "delete": True, "patch": True}
    assert qgis.content_crs == VN2000
    lon, lat = _one(database_url, "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p "
                    "FROM communes ORDER BY code LIMIT 1 OFFSET 3) s")
    code = _one(database_url, "SELECT code FROM communes ORDER BY code LIMIT 1 OFFSET 3")[0]

    fid, reread = qgis.add(NEW_SCHOOL, _vn2000(database_url, lon, lat))
    assert fid is not None and reread == 200, qgis.log
    name, level, students, classrooms, commune, x, y = _stored(database_url, fid)
    assert (name, level, students, classrooms, commune) == (NEW_SCHOOL["name"], "primary", 120,
                                                            None, code)
    assert abs(x - lon) < 1e-7 and abs(y - lat) < 1e-7

    changed = qgis.change_attributes(fid, {"students": 189})
    assert changed.status_code == 200, changed.text
    assert _stored(database_url, fid)[:4] == (NEW_SCHOOL["name"], "primary", 189, None)

    moved_to = _vn2000(database_url, lon, lat, east=25.0)
    moved = qgis.change_geometry(fid, moved_to)
    assert moved.status_code == 200, moved.text
    want_lon, want_lat = _lonlat(database_url, moved_to)
    *_, x, y = _stored(database_url, fid)
    assert abs(x - want_lon) < 1e-7 and abs(y - want_lat) < 1e-7 and x > lon
    assert _stored(database_url, fid)[2] == 189  # the move kept the attribute change

    whole = httpx.get(f"{qgis.items_url}/{fid}?crs={VN2000}", headers=gd_tokens["op1"]).json()
    whole["properties"]["classrooms"] = 8
    assert qgis.replace(fid, whole).status_code == 200  # QGIS without PATCH on offer
    assert _stored(database_url, fid)[2:4] == (189, 8)

    assert qgis.delete(fid).status_code == 204
    assert _one(database_url, "SELECT count(*) FROM schools WHERE id = %s", (int(fid),))[0] == 0

    changes = _history(client, gd_tokens["op1"], fid)
    assert [c["op"] for c in changes] == ["insert", "update", "update", "update", "delete"]
    assert {(c["actor"], c["source"]) for c in changes} == {("op1", "edit:direct")}
    assert changes[1]["changed"] == {"students": {"old": 120, "new": 189}}
    assert "geom" in changes[2]["changed"]
    assert all(status < 300 for _, _, status in qgis.log), qgis.log


def test_qgis_department_editor_edits_are_pending_until_approved(live_url, database_url, client,
                                                                  gd_tokens):
    editor = gd_tokens["qgis-gd-editor"]
    qgis = QgisOapif(f"{live_url}/ogc", editor, srsname="EPSG:9205")
    assert qgis.open("schools") == {"add": True, "change": True, "delete": True, "patch": True}
    changed_id, lon, lat, students = _a_school(database_url, 0)
    gone_id = _a_school(database_url, 1)[0]
    before_changed = _stored(database_url, changed_id)

    new_id, reread = qgis.add(NEW_SCHOOL | {"name": "Trường Mầm non Pa Vệ Sủ"},
                              _vn2000(database_url, lon, lat, east=40.0))
    assert new_id is not None, qgis.log  # QGIS has an id for the feature it shows
    assert reread == 404  # not there until approved; QGIS keeps what it sent
    attributes = qgis.change_attributes(str(changed_id), {"students": students + 11})
    moved_to = _vn2000(database_url, lon, lat, east=15.0)
    geometry = qgis.change_geometry(str(changed_id), moved_to)
    deleted = qgis.delete(str(gone_id))
    for response in (attributes, geometry, deleted):
        assert response.status_code == 202, response.text
        assert response.headers["content-location"].endswith(
            f"/api/v1/edits/{response.json()['edit_id']}")
    assert _stored(database_url, changed_id) == before_changed  # nothing applied yet
    assert _stored(database_url, gone_id) is not None and _stored(database_url, new_id) is None

    leader = gd_tokens["qgis-gd-leader"]
    waiting = {e["id"]: e for e in client.get("/api/v1/edits", headers=leader).json()
               if e["submitted_by"] == "qgis-gd-editor"}
    edit_ids = sorted(waiting)[-4:]
    assert [waiting[e]["op"] for e in edit_ids] == ["create", "update", "update", "delete"]
    assert waiting[edit_ids[0]]["feature_id"] == int(new_id)
    for edit_id in edit_ids:
        approved = client.post(f"/api/v1/edits/{edit_id}/approve", headers=leader)
        assert approved.status_code == 200, approved.text

    name, _, new_students, *_ = _stored(database_url, new_id)
    assert name == "Trường Mầm non Pa Vệ Sủ" and new_students == 120
    _, _, now_students, _, _, x, y = _stored(database_url, changed_id)
    want_lon, want_lat = _lonlat(database_url, moved_to)
    assert now_students == students + 11  # both of the editor's changes of this school
    assert abs(x - want_lon) < 1e-7 and abs(y - want_lat) < 1e-7
    assert _stored(database_url, gone_id) is None

    changes = _history(client, leader, changed_id)[-2:]
    assert [(c["op"], c["actor"], c["source"]) for c in changes] == [
        ("update", "qgis-gd-leader", f"edit:{edit_ids[1]}"),
        ("update", "qgis-gd-leader", f"edit:{edit_ids[2]}")]
    assert changes[0]["changed"] == {"students": {"old": students, "new": students + 11}}
    assert _history(client, leader, new_id)[0]["source"] == f"edit:{edit_ids[0]}"
    assert _history(client, leader, gone_id)[-1]["op"] == "delete"


@pytest.mark.parametrize("who,items,item", [
    (None, "GET, HEAD, OPTIONS", "GET, HEAD, OPTIONS"),
    ("viewer1", "GET, HEAD, OPTIONS", "GET, HEAD, OPTIONS"),
    ("healthed", "GET, HEAD, OPTIONS", "GET, HEAD, OPTIONS"),
    ("qgis-gd-editor", "GET, HEAD, OPTIONS, POST", "GET, HEAD, OPTIONS, PUT, PATCH, DELETE"),
    ("op1", "GET, HEAD, OPTIONS, POST", "GET, HEAD, OPTIONS, PUT, PATCH, DELETE"),
])
def test_options_answers_what_this_caller_may_do(client, gd_tokens, who, items, item):
    headers = gd_tokens[who] if who else {}
    listed = client.options("/ogc/collections/schools/items", headers=headers)
    one = client.options("/ogc/collections/schools/items/1", headers=headers)
    assert (listed.status_code, one.status_code) == (204, 204)
    assert (listed.headers["allow"], one.headers["allow"]) == (items, item)
    assert listed.content == one.content == b""
    assert ("accept-patch" in one.headers) == ("PATCH" in item)
    assert client.options("/ogc/collections/nowhere/items", headers=headers).status_code == 404
    assert "access-control-allow-origin" not in client.options(
        "/ogc/collections/schools/items/1", headers={
            **headers, "Origin": "https://gis.example.vn",
            "Access-Control-Request-Method": "PATCH"}).headers  # CORS is off unless configured


def test_options_is_a_cors_preflight_where_cors_is_configured(settings, gd_tokens):
    """A browser application on a configured origin may send QGIS's writes (its preflight carries
    no credentials); responses name the headers it may read (ETag, Location)."""
    from fastapi.testclient import TestClient

    from api.app import create_app

    origin = "https://gis.laichau.example.vn"
    app = create_app(settings.model_copy(update={"cors_origins": f"{origin}, https://other.example"}))
    with TestClient(app) as browser:
        preflight = browser.options("/ogc/collections/schools/items/1", headers={
            "Origin": origin, "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "authorization, content-type, if-match, content-crs"})
        assert preflight.status_code == 200, preflight.text
        assert preflight.headers["access-control-allow-origin"] == origin
        assert "PATCH" in preflight.headers["access-control-allow-methods"]
        allowed = preflight.headers["access-control-allow-headers"].lower()
        assert {"authorization", "content-type", "if-match", "content-crs"} <= {
            h.strip() for h in allowed.split(",")}
        refused = browser.options("/ogc/collections/schools/items/1", headers={
            "Origin": "https://evil.example", "Access-Control-Request-Method": "PATCH"})
        assert "access-control-allow-origin" not in refused.headers
        read = browser.get("/ogc/collections/schools/items/1", headers={
            "Origin": origin, "Accept": ACCEPT_ITEMS, **gd_tokens["op1"]})
        assert read.status_code == 200 and read.headers["access-control-allow-origin"] == origin
        assert "etag" in read.headers["access-control-expose-headers"].lower()
        plain = browser.options("/ogc/collections/schools/items/1", headers=gd_tokens["op1"])
        assert plain.status_code == 204 and "PATCH" in plain.headers["allow"]
