"""Personal fields never reach a public output."""

from urllib.parse import quote

import pytest

from governance.access import is_personal_layer
from layers.registry import LAYERS

JSON = {"accept": "application/json"}
PERSONAL = {(layer.id, f.name) for layer in LAYERS for f in layer.fields
            if f.sensitivity != "public"}


PEOPLE = sorted(layer.id for layer in LAYERS if is_personal_layer(layer))


@pytest.mark.parametrize("layer_id", sorted({lid for lid, _ in PERSONAL}))
def test_items_carry_no_personal_or_internal_field(client, reader, layer_id):
    hidden = {name for lid, name in PERSONAL if lid == layer_id}
    body = client.get(f"/ogc/collections/{layer_id}/items?limit=200", headers={**JSON, **reader})
    assert body.status_code == 200
    for feature in body.json()["features"]:
        assert not hidden & set(feature["properties"])
    fid = body.json()["features"][0]["id"]
    single = client.get(f"/ogc/collections/{layer_id}/items/{fid}",
                        headers={**JSON, **reader}).json()
    assert not hidden & set(single["properties"])
    html = client.get(f"/ogc/collections/{layer_id}/items?f=html&limit=20", headers=reader)
    for name in hidden:
        assert name not in html.text


@pytest.mark.parametrize("layer_id", PEOPLE)
def test_the_public_sees_layers_about_people_only_as_counts_per_commune(client, layer_id):
    for url in (f"/ogc/collections/{layer_id}/items", f"/ogc/collections/{layer_id}/items/1",
                f"/ogc/collections/{layer_id}/items?f=html",
                f"/api/v1/layers/{layer_id}/export?format=csv",
                f"/api/v1/layers/{layer_id}/features?as_of=2999-01-01"):
        response = client.get(url, headers=JSON)
        assert response.status_code == 401, url
        assert f"/api/v1/layers/{layer_id}/summary" in response.json()["detail"]
    summary = client.get(f"/api/v1/layers/{layer_id}/summary").json()
    assert len(summary["features"]) == 38
    assert all(f["geometry"]["type"] == "Point" for f in summary["features"])
    total = client.get(f"/api/v1/layers/{layer_id}").json()["features"]
    assert sum(f["properties"]["total"] for f in summary["features"]) == total


def test_personal_values_do_not_leak_through_any_output(client, reader, database_url):
    import psycopg2

    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT head_of_household, citizen_id FROM housing ORDER BY id LIMIT 20")
        secrets = [value for row in cur.fetchall() for value in row if value]
    body = client.get("/ogc/collections/housing/items?limit=20", headers={**JSON, **reader}).text
    html = client.get("/ogc/collections/housing/items?f=html&limit=20", headers=reader).text
    for secret in secrets:
        assert secret not in body and secret not in html


@pytest.mark.parametrize("query", [
    "properties=head_of_household",
    "sortby=citizen_id",
    "filter=" + quote("citizen_id LIKE '012%'"),
    "citizen_id=012345678901",
])
def test_personal_fields_cannot_be_probed(client, reader, query):
    response = client.get(f"/ogc/collections/housing/items?{query}", headers={**JSON, **reader})
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
