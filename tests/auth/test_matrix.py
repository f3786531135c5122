"""Authorization matrix: every role over every layer and operation, on the OGC API, the tiles and
our API, checking the outcome and the audit trail.

The expectations are written out here, independently of the policy module, from the rules in
the README: personal fields for the leader and the owning department's editors; internal fields
for signed-in staff; writes for the operator, the owning department, commune editors on layers
with a commune code, field staff on housing.
"""

import math

import mapbox_vector_tile
import psycopg2
import pytest

from governance.access import is_personal_layer
from layers.registry import LAYERS
from tests.auth.conftest import audit_head, audit_rows, bearer

ROLES = ("anonymous", "op1", "leader1", "deped1", "healthed", "communeed", "field1", "viewer1")
DEPARTMENT = {"deped1": "so_xay_dung", "healthed": "so_y_te"}


def sees_personal(who, layer):
    return who == "leader1" or DEPARTMENT.get(who) == layer.owner


def sees_internal(who, layer):
    return who != "anonymous"


def sees_features(who, layer):
    """The public sees layers about people only as counts per commune."""
    return who != "anonymous" or not is_personal_layer(layer)


def write_status(who, layer):
    """Status of a write with an empty (invalid) feature: 422 means the caller may write."""
    if who == "anonymous":
        return 401
    allowed = (who == "op1" or DEPARTMENT.get(who) == layer.owner
               or (who == "communeed" and any(f.name == "commune_code" for f in layer.fields))
               or (who == "field1" and layer.id == "housing"))
    return 422 if allowed else 403


def may_approve_housing(who):
    return who in ("op1", "leader1", "deped1")


def _headers(tokens, who):
    return {"accept": "application/geo+json"} if who == "anonymous" else bearer(tokens[who])


@pytest.mark.parametrize("who", ROLES)
def test_reads_show_exactly_the_allowed_fields(client, tokens, who, database_url):
    headers = _headers(tokens, who)
    for layer in LAYERS:
        since = audit_head(database_url)
        page = client.get(f"/ogc/collections/{layer.id}/items?limit=3", headers=headers)
        if not sees_features(who, layer):
            assert page.status_code == 401, (who, layer.id)
            assert not audit_rows(database_url, since, "read.personal")
            continue
        assert page.status_code == 200, (who, layer.id)
        names = set().union(*(f["properties"] for f in page.json()["features"]))
        for spec in layer.fields:
            expected = (spec.sensitivity == "public"
                        or (spec.sensitivity == "internal" and sees_internal(who, layer))
                        or (spec.sensitivity == "personal" and sees_personal(who, layer)))
            assert (spec.name in names) == expected, (who, layer.id, spec.name)
        personal = [f.name for f in layer.fields if f.sensitivity == "personal"]
        read_audits = audit_rows(database_url, since, "read.personal")
        if personal and sees_personal(who, layer):
            assert read_audits and read_audits[0][1] == who and read_audits[0][3] == layer.id
            assert sorted(read_audits[0][5]["fields"]) == sorted(personal)
        else:
            assert not read_audits, (who, layer.id)


@pytest.mark.parametrize("who", ROLES)
def test_asking_for_a_personal_field_is_allowed_or_403_and_audited(client, tokens, who,
                                                                   database_url):
    headers = _headers(tokens, who)
    for query in ("properties=household_code,citizen_id", "filter=citizen_id%20LIKE%20'0%25'",
                  "sortby=head_of_household", "head_of_household=x"):
        since = audit_head(database_url)
        response = client.get(f"/ogc/collections/housing/items?{query}", headers=headers)
        housing = next(layer for layer in LAYERS if layer.id == "housing")
        if not sees_features(who, housing):
            assert response.status_code == 401, (who, query)
        elif sees_personal(who, housing):
            assert response.status_code == 200, (who, query)
        else:
            assert response.status_code == 403, (who, query)
            assert response.headers["content-type"] == "application/problem+json"
            denied = audit_rows(database_url, since, "read.denied")
            assert denied and denied[0][1] == (None if who == "anonymous" else who)


@pytest.mark.parametrize("who", ROLES)
def test_pygeoapi_pages_follow_the_same_policy(client, tokens, who, database_url):
    headers = {k: v for k, v in _headers(tokens, who).items() if k != "accept"}
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT head_of_household FROM housing ORDER BY id LIMIT 5")
        names = [r[0] for r in cur.fetchall()]
    html = client.get("/ogc/collections/housing/items?f=html&limit=5", headers=headers)
    housing = next(layer for layer in LAYERS if layer.id == "housing")
    assert html.status_code == (200 if sees_features(who, housing) else 401)
    shown = any(name in html.text for name in names)
    assert shown == sees_personal(who, housing), who


@pytest.mark.parametrize("who", ROLES)
def test_write_rights_per_layer(client, tokens, who, database_url):
    headers = {**_headers(tokens, who), "content-type": "application/geo+json"}
    for layer in LAYERS:
        response = client.post(f"/ogc/collections/{layer.id}/items", json={"type": "Feature"},
                               headers=headers)
        assert response.status_code == write_status(who, layer), (who, layer.id, response.text)
        assert response.headers["content-type"] == "application/problem+json"


def _lonlat_tile(lon, lat, z):
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


@pytest.mark.parametrize("who", ROLES)
def test_tiles_never_carry_personal_or_internal_fields(client, tokens, who, database_url):
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT ST_X(geom), ST_Y(geom) FROM housing ORDER BY id LIMIT 1")
        lon, lat = cur.fetchone()
    x, y = _lonlat_tile(lon, lat, 14)
    response = client.get(f"/tiles/housing/14/{x}/{y}.mvt", headers=_headers(tokens, who))
    if who == "anonymous":  # the public sees households only as counts per commune
        assert response.status_code == 401
        return
    assert response.status_code == 200
    tile = mapbox_vector_tile.decode(response.content)
    props = set().union(*(f["properties"] for f in tile["housing"]["features"]))
    assert props and not props & {"head_of_household", "citizen_id", "photo_refs", "surveyed_by"}


@pytest.mark.parametrize("who", ROLES)
def test_approval_rights(client, tokens, who, communes, database_url):
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM communes "
                    "WHERE code = %s) s", (communes[0],))
        lon, lat = cur.fetchone()
    house = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
             "properties": {"household_code": f"HT-M-{who}", "head_of_household": "Tòng Thị Ún",
                            "members": 2, "poverty_status": "poor", "house_type": "temporary",
                            "surveyed_at": "2026-11-30T08:00:00Z"}}
    submitted = client.post("/ogc/collections/housing/items", json=house,
                            headers={**bearer(tokens["field1"]), "content-type": "application/geo+json"})
    assert submitted.status_code == 202
    edit_id = submitted.json()["edit_id"]
    since = audit_head(database_url)
    response = client.post(f"/api/v1/edits/{edit_id}/approve", headers=_headers(tokens, who))
    if who == "anonymous":
        assert response.status_code == 401
    elif may_approve_housing(who):
        assert response.status_code == 200 and response.json()["status"] == "approved"
        assert audit_rows(database_url, since, "edit.approve")[0][4] == "ok"
    else:
        assert response.status_code == 403
        assert audit_rows(database_url, since, "edit.approve")[0][4] == "denied"


@pytest.mark.parametrize("who", ROLES)
def test_queryables_list_what_the_caller_may_read(client, tokens, who):
    headers = {**_headers(tokens, who), "accept": "application/schema+json"}
    body = client.get("/ogc/collections/housing/queryables?f=json", headers=headers)
    assert body.status_code == 200
    names = set(body.json()["properties"])
    housing = next(layer for layer in LAYERS if layer.id == "housing")
    assert ("citizen_id" in names) == sees_personal(who, housing), who
    assert ("surveyed_by" in names) == sees_internal(who, housing), who
