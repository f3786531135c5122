"""Malformed input found by hostile clients answers 400/422 naming what to change, never a 500."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

JSON = {"accept": "application/geo+json"}
PROBLEM = "application/problem+json"
MANY_ANDS = " AND ".join(f"students > {i}" for i in range(2000))
LIKE_PROPERTY = json.dumps({"op": "like", "args": [{"property": "name"}, {"property": "name"}]})


def _problem(response, status: int, parameter: str | None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["detail"] and body["detail_en"]
    if parameter:
        assert body["parameter"] == parameter
    return body


@pytest.mark.parametrize("endpoint", ["/ogc/collections/schools/items",
                                      "/api/v1/layers/schools/export"])
@pytest.mark.parametrize("query,parameter,says", [
    ("students=1e309", "students", "out of range"),
    (f"filter={quote('students = 1e400')}", "filter", "out of range"),
    (f"filter={quote('students = 99999999999999999999999')}", "filter", "out of range"),
    (f"filter={quote(MANY_ANDS)}", "filter", "at most"),
    (f"filter={quote(LIKE_PROPERTY)}&filter-lang=cql2-json", "filter", "pattern of LIKE"),
])
def test_numbers_and_filters_out_of_bounds_are_400(client, endpoint, query, parameter, says):
    body = _problem(client.get(f"{endpoint}?{query}", headers=JSON), 400, parameter)
    assert says in body["detail_en"]
    assert len(body["detail_en"]) < 1000  # the 30,000-character filter is not echoed back


def test_exponent_integers_still_filter(client):
    """``1e2`` is a hundred, not an error: the fix refuses what cannot be a number, nothing more."""
    exact = client.get("/ogc/collections/schools/items?students=100&limit=1000", headers=JSON)
    written = client.get("/ogc/collections/schools/items?students=1e2&limit=1000", headers=JSON)
    assert exact.status_code == written.status_code == 200
    assert exact.json()["numberMatched"] == written.json()["numberMatched"]


def test_a_hundred_conditions_still_work(client):
    text = " OR ".join(f"students = {i}" for i in range(90))
    assert client.get(f"/ogc/collections/schools/items?filter={quote(text)}",
                      headers=JSON).status_code == 200


@pytest.mark.parametrize("username", ["admin\x00", "op1\x00--", "a\nb"])
def test_sign_in_name_with_control_characters_is_422(client, username):
    json_body = client.post("/api/v1/auth/token", json={"username": username, "password": "x" * 12})
    body = _problem(json_body, 422, "username")
    assert "control characters" in body["detail_en"]
    form = client.post("/api/v1/auth/token", data={"username": username, "password": "x" * 12})
    _problem(form, 422, "username")


def test_api_key_with_nul_is_a_401(client):
    response = client.get("/api/v1/auth/me", headers={"X-API-Key": "ioc_0000\x000000_abcdef"})
    assert response.status_code == 401, response.text


def test_nul_in_a_json_text_is_a_400_not_a_500(client, staff):
    """A NUL in any text of a body the database would store is the client's error."""
    leader = staff("leader", "so_xay_dung")
    response = client.post("/api/v1/reported-values", headers=leader, json=[
        {"indicator": "traffic_accidents", "period": "2031", "unit_code": "province", "value": 3,
         "note": "ghi chú\x00"}])
    body = _problem(response, 400, None)
    assert "NUL" in body["detail_en"]


@pytest.mark.parametrize("outputs", [5, True, 1.5])
def test_process_outputs_that_are_not_an_object_are_400(client, outputs):
    response = client.post("/ogc/processes/sector_transport/execution",
                           json={"inputs": {"group_by": "none"}, "outputs": outputs})
    _problem(response, 400, "outputs")
