"""Asking for a field one may not read is one rule on every output path: 403 and audited.

A system client with no scopes sees the public fields of households. It names a personal field
(``citizen_id``) on each path that serves the layer — GeoJSON items, pygeoapi's HTML items, a
single feature (GeoJSON and HTML), the queryables and the export — in each way a request can
name a field: as an equality parameter, in ``properties``, in ``sortby`` and in a filter.
"""

import psycopg2
import pytest

from tests.auth.conftest import audit_head, audit_rows

ASKS = ("citizen_id=001", "properties=household_code,citizen_id", "sortby=-citizen_id",
        "filter=citizen_id%20LIKE%20'0%25'")


@pytest.fixture(scope="module")
def household_id(database_url):
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT min(id) FROM housing")
        return cur.fetchone()[0]


def _paths(household_id):
    items = "/ogc/collections/housing/items"
    return {
        "items GeoJSON": (f"{items}?f=json&", {}),
        "items HTML (pygeoapi)": (f"{items}?f=html&", {"accept": "text/html"}),
        "feature GeoJSON": (f"{items}/{household_id}?f=json&", {}),
        "feature HTML (pygeoapi)": (f"{items}/{household_id}?f=html&", {"accept": "text/html"}),
        "queryables": ("/ogc/collections/housing/queryables?", {}),
        "export": ("/api/v1/layers/housing/export?format=csv&", {}),
    }


@pytest.mark.parametrize("ask", ASKS)
@pytest.mark.parametrize("path", ["items GeoJSON", "items HTML (pygeoapi)", "feature GeoJSON",
                                  "feature HTML (pygeoapi)", "queryables", "export"])
def test_every_path_refuses_and_audits_a_hidden_field(client, reader, database_url,
                                                      household_id, path, ask):
    prefix, headers = _paths(household_id)[path]
    since = audit_head(database_url)
    response = client.get(prefix + ask, headers={**reader, **headers})
    assert response.status_code == 403, (path, ask, response.text[:300])
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["parameter"] == "citizen_id" and "citizen_id" in body["detail_en"]
    denied = audit_rows(database_url, since, "read.denied")
    assert len(denied) == 1, (path, ask, denied)
    assert denied[0][1] == "t-reader" and denied[0][3] == "housing"
    assert denied[0][5]["fields"] == ["citizen_id"]



@pytest.mark.parametrize("path", ["items GeoJSON", "items HTML (pygeoapi)", "queryables",
                                  "export"])
def test_public_fields_still_pass_on_every_path(client, reader, database_url, household_id,
                                                path):
    prefix, headers = _paths(household_id)[path]
    since = audit_head(database_url)
    query = "" if path == "queryables" else "limit=2&household_code=x"
    response = client.get(prefix + query, headers={**reader, **headers})
    assert response.status_code == 200, (path, response.text[:300])
    assert not audit_rows(database_url, since, "read.denied")
