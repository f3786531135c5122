"""A field's ``max_length`` (declared once, in the catalog) is honoured by every path: editing,
imports, quality, the queryables and the table itself."""

from __future__ import annotations

import csv
import io

import psycopg2
import psycopg2.errors
import pytest

from layers.fields import json_schema
from layers.quality import failing_records, rule_field
from layers.registry import get_layer
from tests.auth.conftest import bearer

LONG = "Lò Văn " + "A" * 94  # 101 characters: one over head_of_household's 100
FITS = LONG[:100]
HEADER = ["Mã hộ", "Chủ hộ", "Số nhân khẩu", "Hộ nghèo", "Loại nhà", "Thời điểm khảo sát",
          "Trạng thái duyệt", "kinh_do", "vi_do"]


def _point(database_url, code):
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM communes "
                    "WHERE code = %s) s", (code,))
        return list(cur.fetchone())


def _house(point, head, code):
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": point},
            "properties": {"household_code": code, "head_of_household": head, "members": 3,
                           "poverty_status": "none", "house_type": "temporary",
                           "surveyed_at": "2026-12-01T08:00:00Z"}}


def test_declared_limits():
    assert len(LONG) == 101
    assert get_layer("housing").field("head_of_household").max_length == 100
    assert get_layer("housing").field("citizen_id").max_length == 12
    assert get_layer("schools").field("name").max_length == 200


def test_editing_refuses_a_value_over_the_limit_naming_the_field(client, tokens, communes,
                                                                 database_url):
    point = _point(database_url, communes[0])
    headers = {**bearer(tokens["op1"]), "content-type": "application/geo+json"}
    refused = client.post("/ogc/collections/housing/items", headers=headers,
                          json=_house(point, LONG, "ML-EDIT-1"))
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["parameter"] == "head_of_household" and "100" in body["detail_en"]
    assert LONG not in refused.text
    accepted = client.post("/ogc/collections/housing/items", headers=headers,
                           json=_house(point, FITS, "ML-EDIT-2"))
    assert accepted.status_code == 201, accepted.text


def test_an_import_refuses_the_row_over_the_limit_and_masks_it(client, tokens, communes,
                                                               database_url, settle):
    lon, lat = _point(database_url, communes[0])
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    for n, head in enumerate((FITS, LONG)):
        writer.writerow([f"ML-IMP-{n}", head, 4, "Không", "Tạm", "15/03/2025", "Chờ duyệt",
                         lon, lat])
    response = client.post("/api/v1/layers/housing/imports", headers=bearer(tokens["op1"]),
                           files={"file": ("dai.csv", buffer.getvalue().encode(), "text/csv")},
                           data={"dataset": "do_dai"})
    response = settle(response, bearer(tokens["op1"]))
    assert response.status_code == 422, response.text
    [issue] = response.json()["errors"]
    assert issue["row"] == 3 and "100 characters" in issue["reason_en"]
    assert issue["value"] == "***" and LONG not in response.text


def test_the_table_refuses_it_and_quality_finds_rows_older_than_the_constraint(database_url):
    conn = psycopg2.connect(database_url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT min(id) FROM housing")
            fid = cur.fetchone()[0]
            with pytest.raises(psycopg2.errors.CheckViolation) as refused:
                cur.execute("UPDATE housing SET head_of_household = %s WHERE id = %s", (LONG, fid))
            assert refused.value.diag.constraint_name == "ck_housing_head_of_household_max_length"
            conn.rollback()
            # Within one transaction, rolled back: the row as if written before the constraint.
            cur.execute("ALTER TABLE housing DROP CONSTRAINT ck_housing_head_of_household_max_length")
            cur.execute("UPDATE housing SET head_of_household = %s WHERE id = %s", (LONG, fid))
            layer = get_layer("housing")
            found = failing_records(cur, layer, "max_length:head_of_household", limit=1000,
                                    visible=layer.fields)
            assert found is not None and {r["id"] for r in found["records"]} == {fid}
            assert rule_field(layer, "max_length:head_of_household") == "head_of_household"
    finally:
        conn.rollback()
        conn.close()


def test_the_layer_description_and_the_json_schema_carry_the_limit(client):
    """The registry as clients read it, and what the OGC provider hands pygeoapi for the field
    (pygeoapi's queryables keep only the type and format of it)."""
    described = client.get("/api/v1/layers/schools").json()
    name = next(f for f in described["fields"] if f["name"] == "name")
    assert name["max_length"] == 200 and name["required"] is True
    assert json_schema(get_layer("schools").field("name")) == {"type": "string", "maxLength": 200}
