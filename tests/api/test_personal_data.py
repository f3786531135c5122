"""Personal fields never reach a public output."""

from urllib.parse import quote

import pytest

from layers.registry import LAYERS

JSON = {"accept": "application/json"}
PERSONAL = {(layer.id, f.name) for layer in LAYERS for f in layer.fields
            if f.sensitivity != "public"}


@pytest.mark.parametrize("layer_id", sorted({lid for lid, _ in PERSONAL}))
def test_items_carry_no_personal_or_internal_field(client, layer_id):
    hidden = {name for lid, name in PERSONAL if lid == layer_id}
    body = client.get(f"/ogc/collections/{layer_id}/items?limit=200", headers=JSON)
    assert body.status_code == 200
    for feature in body.json()["features"]:
        assert not hidden & set(feature["properties"])
    fid = body.json()["features"][0]["id"]
    single = client.get(f"/ogc/collections/{layer_id}/items/{fid}", headers=JSON).json()
    assert not hidden & set(single["properties"])
    html = client.get(f"/ogc/collections/{layer_id}/items?f=html&limit=20")
    for name in hidden:
        assert name not in html.text


def test_personal_values_do_not_leak_through_any_output(client, database_url):
    import psycopg2

    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT head_of_household, citizen_id FROM housing ORDER BY id LIMIT 20")
        secrets = [value for row in cur.fetchall() for value in row if value]
    body = client.get("/ogc/collections/housing/items?limit=20", headers=JSON).text
    html = client.get("/ogc/collections/housing/items?f=html&limit=20").text
    for secret in secrets:
        assert secret not in body and secret not in html


@pytest.mark.parametrize("query", [
    "properties=head_of_household",
    "sortby=citizen_id",
    "filter=" + quote("citizen_id LIKE '012%'"),
    "citizen_id=012345678901",
])
def test_personal_fields_cannot_be_probed(client, query):
    response = client.get(f"/ogc/collections/housing/items?{query}", headers=JSON)
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
