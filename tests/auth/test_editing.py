"""OGC API - Features Part 4: ETag/If-Match, pending edits, approval, commune boundaries."""

import psycopg2
import pytest

from tests.auth.conftest import audit_head, audit_rows, bearer

GEOJSON = "application/geo+json"


def _point_in(database_url, code):
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM communes "
                    "WHERE code = %s) s", (code,))
        return list(cur.fetchone())


def _house(database_url, commune):
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT id FROM housing WHERE commune_code = %s ORDER BY id LIMIT 1", (commune,))
        return cur.fetchone()[0]


def _count(database_url, table="housing"):
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {table}")  # noqa: S608
        return cur.fetchone()[0]


def _new_house(lon_lat, code="HT-TEST-1", commune=None):
    props = {"household_code": code, "head_of_household": "Lò Văn Tủa", "members": 4,
             "poverty_status": "near_poor", "house_type": "semi_permanent",
             "surveyed_at": "2026-11-30T08:00:00Z"}
    if commune:
        props["commune_code"] = commune
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": lon_lat},
            "properties": props}


def _headers(token, **extra):
    return {**bearer(token), "content-type": GEOJSON, **extra}


def test_single_feature_has_an_etag_and_if_match_guards_writes(client, tokens, communes,
                                                                database_url):
    fid = _house(database_url, communes[0])
    url = f"/ogc/collections/housing/items/{fid}"
    op = tokens["op1"]
    read = client.get(url, headers=bearer(op)).headers["etag"]
    unguarded = client.patch(url, json={"properties": {"village": "Bản Thẳm"}},
                             headers=_headers(op, **{"content-type": "application/merge-patch+json"}))
    assert unguarded.status_code == 200  # no If-Match: made against the feature as it arrives
    assert unguarded.headers["etag"] != read
    assert client.patch(url, json={"properties": {"members": 6}},
                        headers=_headers(op, **{"If-Match": read})).status_code == 412
    got = client.get(url, headers=bearer(op))
    etag = got.headers["etag"]
    assert got.json()["properties"]["village"] == "Bản Thẳm"
    patch = {"type": "Feature", "properties": {"members": 7}}
    stale = client.patch(url, json=patch, headers=_headers(op, **{"If-Match": '"0000"'}))
    assert stale.status_code == 412
    assert stale.headers["content-type"] == "application/problem+json"
    since = audit_head(database_url)
    ok = client.patch(url, json=patch, headers=_headers(op, **{"If-Match": etag}))
    assert ok.status_code == 200 and ok.headers["etag"] != etag
    assert client.get(url, headers=bearer(op)).json()["properties"]["members"] == 7
    again = client.patch(url, json={"type": "Feature", "properties": {"members": 8}},
                         headers=_headers(op, **{"If-Match": etag}))
    assert again.status_code == 412  # the second editor's copy is stale: nothing overwritten
    entry = audit_rows(database_url, since, "feature.update")[0]
    assert entry[1] == "op1" and entry[3] == f"housing/{fid}"
    assert entry[5]["before"]["properties"]["members"] != 7
    assert entry[5]["after"]["properties"]["members"] == 7


def test_commune_editor_inside_goes_pending_then_approval_applies(client, tokens, communes,
                                                                  database_url):
    home, _ = communes
    before = _count(database_url)
    response = client.post("/ogc/collections/housing/items",
                           json=_new_house(_point_in(database_url, home), "HT-CE-1"),
                           headers=_headers(tokens["communeed"]))
    assert response.status_code == 202, response.text
    edit_id, reserved = response.json()["edit_id"], response.json()["feature_id"]
    assert response.headers["content-location"].endswith(f"/api/v1/edits/{edit_id}")
    # Location: the feature it will be once approved (QGIS takes the new id from it).
    assert response.headers["location"].endswith(f"/ogc/collections/housing/items/{reserved}")
    assert client.get(f"/ogc/collections/housing/items/{reserved}",
                      headers=bearer(tokens["op1"])).status_code == 404
    assert _count(database_url) == before  # not visible until approved
    leader_list = client.get("/api/v1/edits", headers=bearer(tokens["deped1"])).json()
    assert edit_id in [e["id"] for e in leader_list]
    assert client.post(f"/api/v1/edits/{edit_id}/approve",
                       headers=bearer(tokens["healthed"])).status_code == 403
    since = audit_head(database_url)
    approved = client.post(f"/api/v1/edits/{edit_id}/approve", headers=bearer(tokens["deped1"]))
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    fid = approved.json()["applied_feature_id"]
    assert fid == reserved
    assert _count(database_url) == before + 1
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT commune_code, approval_status, head_of_household FROM housing "
                    "WHERE id = %s", (fid,))
        assert cur.fetchone() == (home, "approved", "Lò Văn Tủa")
    created = audit_rows(database_url, since, "feature.create")[0]
    assert created[1] == "deped1" and created[5]["source"] == f"edit:{edit_id}"
    assert client.post(f"/api/v1/edits/{edit_id}/approve",
                       headers=bearer(tokens["op1"])).status_code == 409


def test_commune_editor_outside_the_commune_is_refused(client, tokens, communes, database_url):
    home, other = communes
    before, edits = _count(database_url), _count(database_url, "pending_edits")
    since = audit_head(database_url)
    outside = client.post("/ogc/collections/housing/items",
                          json=_new_house(_point_in(database_url, other), "HT-OUT"),
                          headers=_headers(tokens["communeed"]))
    assert outside.status_code == 403
    claimed = client.post("/ogc/collections/housing/items",
                          json=_new_house(_point_in(database_url, home), "HT-OUT2", other),
                          headers=_headers(tokens["communeed"]))
    assert claimed.status_code == 403
    fid = _house(database_url, other)
    etag = client.get(f"/ogc/collections/housing/items/{fid}",
                      headers=bearer(tokens["communeed"])).headers["etag"]
    existing = client.patch(f"/ogc/collections/housing/items/{fid}",
                            json={"type": "Feature", "properties": {"members": 2}},
                            headers=_headers(tokens["communeed"], **{"If-Match": etag}))
    assert existing.status_code == 403
    assert (_count(database_url), _count(database_url, "pending_edits")) == (before, edits)
    refused = audit_rows(database_url, since, "feature.create")
    assert [r[4] for r in refused] == ["refused", "refused"]


def test_no_one_approves_their_own_edit_and_rejection_needs_a_reason(client, tokens, database_url):
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT id FROM construction_permits ORDER BY id LIMIT 1")
        fid = cur.fetchone()[0]
    url = f"/ogc/collections/construction_permits/items/{fid}"
    etag = client.get(url, headers=bearer(tokens["deped1"])).headers["etag"]
    submitted = client.delete(url, headers=_headers(tokens["deped1"], **{"If-Match": etag}))
    assert submitted.status_code == 202
    edit_id = submitted.json()["edit_id"]
    assert client.post(f"/api/v1/edits/{edit_id}/approve",
                       headers=bearer(tokens["deped1"])).status_code == 403
    no_reason = client.post(f"/api/v1/edits/{edit_id}/reject", json={},
                            headers=bearer(tokens["deped2"]))
    assert no_reason.status_code == 422
    rejected = client.post(f"/api/v1/edits/{edit_id}/reject", json={"reason": "Sai số giấy phép"},
                           headers=bearer(tokens["deped2"]))
    assert rejected.status_code == 200
    assert rejected.json()["status"] == "rejected" and rejected.json()["reason"] == "Sai số giấy phép"
    assert client.get(url, headers=bearer(tokens["deped1"])).status_code == 200


def test_approval_of_a_stale_edit_is_412(client, tokens, communes, database_url):
    fid = _house(database_url, communes[0])
    url = f"/ogc/collections/housing/items/{fid}"
    etag = client.get(url, headers=bearer(tokens["communeed"])).headers["etag"]
    pending = client.patch(url, json={"type": "Feature", "properties": {"members": 3}},
                           headers=_headers(tokens["communeed"], **{"If-Match": etag}))
    assert pending.status_code == 202
    current = client.get(url, headers=bearer(tokens["op1"])).headers["etag"]
    assert client.patch(url, json={"type": "Feature", "properties": {"village": "Bản Mới"}},
                        headers=_headers(tokens["op1"], **{"If-Match": current})).status_code == 200
    stale = client.post(f"/api/v1/edits/{pending.json()['edit_id']}/approve",
                        headers=bearer(tokens["deped1"]))
    assert stale.status_code == 412
    assert client.get(url, headers=bearer(tokens["op1"])).json()["properties"]["village"] == "Bản Mới"


@pytest.mark.parametrize("body,content_type,status", [
    ({"type": "Feature", "geometry": None, "properties": {}}, GEOJSON, 422),
    ({"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[103, 22], [103.1, 22]]},
      "properties": {}}, GEOJSON, 422),
    ("not json", GEOJSON, 422),
    ({"type": "Feature"}, "text/plain", 415),
])
def test_malformed_writes_are_refused(client, tokens, body, content_type, status, database_url):
    before = _count(database_url)
    data = body if isinstance(body, str) else __import__("json").dumps(body)
    response = client.post("/ogc/collections/housing/items", content=data,
                           headers={**bearer(tokens["op1"]), "content-type": content_type})
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert _count(database_url) == before


def test_typed_field_errors_name_the_field(client, tokens, communes, database_url):
    house = _new_house(_point_in(database_url, communes[0]))
    house["properties"]["members"] = "four"
    response = client.post("/ogc/collections/housing/items", json=house,
                           headers=_headers(tokens["op1"]))
    assert response.status_code == 422 and response.json()["parameter"] == "members"
    house["properties"]["members"] = 4
    house["properties"]["not_a_field"] = 1
    assert client.post("/ogc/collections/housing/items", json=house,
                       headers=_headers(tokens["op1"])).status_code == 422


def test_viewers_and_anonymous_cannot_write(client, tokens, communes, database_url):
    house = _new_house(_point_in(database_url, communes[0]))
    assert client.post("/ogc/collections/housing/items", json=house,
                       headers=_headers(tokens["viewer1"])).status_code == 403
    assert client.post("/ogc/collections/housing/items", json=house,
                       headers={"content-type": GEOJSON}).status_code == 401
    assert client.post("/ogc/collections/schools/items", json=house,
                       headers=_headers(tokens["field1"])).status_code == 403


def test_operator_create_and_delete_apply_directly(client, tokens, communes, database_url):
    house = _new_house(_point_in(database_url, communes[0]), "HT-OP-1", communes[0])
    created = client.post("/ogc/collections/housing/items", json=house,
                          headers=_headers(tokens["op1"]))
    assert created.status_code == 201
    url = created.headers["location"].split("8000", 1)[-1]
    url = url[url.index("/ogc/"):]
    etag = client.get(url, headers=bearer(tokens["op1"])).headers["etag"]
    assert created.headers["etag"] == etag
    deleted = client.delete(url, headers=_headers(tokens["op1"], **{"If-Match": etag}))
    assert deleted.status_code == 204
    assert client.get(url, headers=bearer(tokens["op1"])).status_code == 404


def test_qgis_shaped_create_in_vn2000(client, tokens, communes, database_url):
    """A create as QGIS sends it: geo+json, an id member, nulls for empty fields, Content-Crs."""
    lon, lat = _point_in(database_url, communes[0])
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Transform(ST_SetSRID("
                    "ST_MakePoint(%s, %s), 4326), 9205) p) s", (lon, lat))
        x, y = cur.fetchone()
    feature = _new_house([x, y], "HT-QGIS-1")
    feature["id"] = None
    feature["properties"].update({"citizen_id": None, "village": None})
    response = client.post("/ogc/collections/housing/items", json=feature, headers=_headers(
        tokens["op1"], **{"Content-Crs": "<http://www.opengis.net/def/crs/EPSG/0/9205>"}))
    assert response.status_code == 201, response.text
    fid = response.json()["id"]
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT ST_X(geom), ST_Y(geom), commune_code FROM housing WHERE id = %s", (fid,))
        got_lon, got_lat, commune = cur.fetchone()
    assert abs(got_lon - lon) < 1e-7 and abs(got_lat - lat) < 1e-7 and commune == communes[0]


def test_pending_edits_show_personal_values_only_to_those_allowed(client, tokens, communes,
                                                                  database_url):
    house = _new_house(_point_in(database_url, communes[0]), "HT-PRIV-1")
    edit_id = client.post("/ogc/collections/housing/items", json=house,
                          headers=_headers(tokens["communeed"])).json()["edit_id"]
    operator_view = client.get(f"/api/v1/edits/{edit_id}", headers=bearer(tokens["op1"])).json()
    assert "head_of_household" not in operator_view["properties"]
    assert operator_view["properties"]["household_code"] == "HT-PRIV-1"
    since = audit_head(database_url)
    owner_view = client.get(f"/api/v1/edits/{edit_id}", headers=bearer(tokens["deped1"])).json()
    assert owner_view["properties"]["head_of_household"] == "Lò Văn Tủa"
    read = audit_rows(database_url, since, "read.personal")
    assert read and read[0][1] == "deped1" and read[0][5]["edits"] == [edit_id]
    approved = client.post(f"/api/v1/edits/{edit_id}/approve", headers=bearer(tokens["op1"]))
    assert "head_of_household" not in approved.json()["properties"]
    created = audit_rows(database_url, since, "feature.create")[-1]
    masked = created[5]["after"]["properties"]["head_of_household"]
    assert masked.startswith("sha256:") and "Lò" not in str(created[5])


MERGE = "application/merge-patch+json"


@pytest.mark.parametrize("body,parameter", [
    ({}, None),                                              # changes nothing
    ({"properties": None}, "properties"),                    # cannot remove every field
    ({"geometry": None}, "geometry"),                        # a feature keeps its geometry
    ({"type": "FeatureCollection", "properties": {"members": 2}}, None),
    ({"id": 987654321, "properties": {"members": 2}}, "id"),  # another feature's id
    ({"properties": {"members": None}}, "members"),          # a required field cannot be emptied
    ({"properties": {"approval_status": "approved"}}, "approval_status"),
])
def test_bad_merge_patches_are_refused_and_change_nothing(client, tokens, communes, database_url,
                                                          body, parameter):
    fid = _house(database_url, communes[0])
    url = f"/ogc/collections/housing/items/{fid}"
    etag = client.get(url, headers=bearer(tokens["op1"])).headers["etag"]
    response = client.patch(url, content=__import__("json").dumps(body),
                            headers=_headers(tokens["op1"], **{"content-type": MERGE}))
    assert response.status_code == 422, response.text
    assert response.json().get("parameter") == parameter
    assert response.json()["detail_en"]
    assert client.get(url, headers=bearer(tokens["op1"])).headers["etag"] == etag


def test_a_merge_patch_changes_only_what_it_names(client, tokens, communes, database_url):
    fid = _house(database_url, communes[0])
    url = f"/ogc/collections/housing/items/{fid}"
    before = client.get(url, headers=bearer(tokens["op1"])).json()
    response = client.patch(url, json={"properties": {"village": None, "members": 9}},
                            headers=_headers(tokens["op1"], **{"content-type": MERGE}))
    assert response.status_code == 200, response.text
    after = client.get(url, headers=bearer(tokens["op1"])).json()
    assert after["properties"]["village"] is None and after["properties"]["members"] == 9
    untouched = {k: v for k, v in after["properties"].items() if k not in ("village", "members")}
    assert untouched == {k: v for k, v in before["properties"].items()
                         if k not in ("village", "members")}
    assert after["geometry"] == before["geometry"]


def test_the_approver_sees_a_conflict_field_by_field(client, tokens, communes, database_url):
    """An edit sent without If-Match (as QGIS sends) whose field someone else changed meanwhile:
    the view and the refused approval list the field, its value then, now and proposed;
    personal values only to those who may read them."""
    fid = _house(database_url, communes[0])
    url = f"/ogc/collections/housing/items/{fid}"
    was = client.get(url, headers=bearer(tokens["deped1"])).json()["properties"]
    pending = client.patch(url, json={"properties": {"head_of_household": "Lò Văn Páo",
                                                     "members": 5}},
                           headers=_headers(tokens["communeed"], **{"content-type": MERGE}))
    assert pending.status_code == 202, pending.text
    edit_id = pending.json()["edit_id"]
    assert client.get(f"/api/v1/edits/{edit_id}", headers=bearer(tokens["deped1"])).json()[
        "conflicts"] is None
    assert client.patch(url, json={"properties": {"head_of_household": "Lò Thị Mai"}},
                        headers=_headers(tokens["op1"], **{"content-type": MERGE})).status_code == 200
    conflict = {"field": "head_of_household", "submitted_against": was["head_of_household"],
                "now": "Lò Thị Mai", "proposed": "Lò Văn Páo"}
    owner_view = client.get(f"/api/v1/edits/{edit_id}", headers=bearer(tokens["deped1"])).json()
    assert owner_view["conflicts"] == [conflict]
    operator_view = client.get(f"/api/v1/edits/{edit_id}", headers=bearer(tokens["op1"])).json()
    [masked] = operator_view["conflicts"]
    assert masked["field"] == "head_of_household" and "Lò" not in str(operator_view)
    since = audit_head(database_url)
    refused = client.post(f"/api/v1/edits/{edit_id}/approve", headers=bearer(tokens["op1"]))
    assert refused.status_code == 412
    assert refused.json()["conflicts"] == operator_view["conflicts"]
    assert "head_of_household" in refused.json()["detail"]
    stale = client.post(f"/api/v1/edits/{edit_id}/approve", headers=bearer(tokens["deped1"]))
    assert stale.status_code == 412 and stale.json()["conflicts"] == [conflict]
    assert [r[4] for r in audit_rows(database_url, since, "edit.approve")] == ["refused", "refused"]
    assert client.get(url, headers=bearer(tokens["deped1"])).json()["properties"][
        "head_of_household"] == "Lò Thị Mai"
    rejected = client.post(f"/api/v1/edits/{edit_id}/reject", headers=bearer(tokens["deped1"]),
                           json={"reason": "Chủ hộ đã được cập nhật; gửi lại số nhân khẩu."})
    assert rejected.status_code == 200
