"""Open311 GeoReport v2 over real HTTP: the ``georeport`` client (PyPI) for every GET it offers;
POSTs, which that client does not send (0.3.1 has no POST method), shaped as the specification
and public Open311 apps send them: form-encoded, ``api_key`` in the body."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import psycopg2
import requests
import xmltodict
from georeport import GeoReport

from tests.feedback.conftest import EMAIL, ID_NUMBER, NAME, PHONE

SPEC_FIELDS = {"service_request_id", "status", "status_notes", "service_name", "service_code",
               "description", "agency_responsible", "service_notice", "requested_datetime",
               "updated_datetime", "expected_datetime", "address", "address_id", "zipcode", "lat",
               "long", "media_url"}


def _post(base, app_key, fmt="json", headers=None, **fields):
    data = {"api_key": app_key, "service_code": "road_damage",
            "description": "Đường bị sạt lở, xe máy không qua được", **fields}
    return requests.post(f"{base}/open311/v2/requests.{fmt}", data=data, headers=headers,
                         timeout=30)


def test_services_round_trip_with_georeport(live_url):
    client = GeoReport(f"{live_url}/open311/v2")
    services = client.get_service_list()
    assert {s["service_code"] for s in services} >= {"road_damage", "complaint", "street_light"}
    assert next(s for s in services if s["service_code"] == "road_damage")["service_name"] == \
        "Đường hư hỏng, sạt lở"
    assert client.get_service_definition("waste")["service_code"] == "waste"
    xml = GeoReport(f"{live_url}/open311/v2", output_format="xml").get_service_list()
    assert "Đường hư hỏng, sạt lở" in {s["service_name"] for s in xml}


def test_post_then_read_back_with_georeport(live_url, app_key, spot):
    lat, lon, commune, _ = spot
    response = _post(live_url, app_key, lat=str(lat), long=str(lon), first_name="Lò Thị",
                     last_name="Hoà", phone=PHONE, email=EMAIL)
    assert response.status_code == 201, response.text
    [created] = response.json()
    rid, token = created["service_request_id"], created["token"]
    assert len(token) >= 24

    client = GeoReport(f"{live_url}/open311/v2")
    one = client.get_service_request(rid)
    assert set(one) == SPEC_FIELDS
    assert one["status"] == "open" and one["service_code"] == "road_damage"
    assert one["description"] == "Đường bị sạt lở, xe máy không qua được"
    assert abs(one["lat"] - lat) < 0.001 and abs(one["long"] - lon) < 0.001
    listed = client.get_service_requests(service_code="road_damage", status="open")
    assert rid in {r["service_request_id"] for r in listed}
    assert client.get_service_requests(service_request_id=rid)[0]["service_request_id"] == rid
    xml_one = GeoReport(f"{live_url}/open311/v2", output_format="xml").get_service_request(rid)
    assert xml_one["service_request_id"] == rid
    by_token = requests.get(f"{live_url}/open311/v2/tokens/{token}.json", timeout=10).json()
    assert by_token == [{"service_request_id": rid, "token": token}]
    # Nothing the public reads names the reporter, and the token stays private.
    everything = requests.get(f"{live_url}/open311/v2/requests.json", timeout=10).text + \
        requests.get(f"{live_url}/open311/v2/requests.xml", timeout=10).text
    for secret in ("Hoà", PHONE, EMAIL, token):
        assert secret not in everything


def test_post_with_an_address_and_as_xml(live_url, app_key, spot, database_url):
    _, _, commune, name = spot
    response = _post(live_url, app_key, "xml", address_string=f"Bản Nậm, {name}, Lai Châu",
                     service_code="street_light", description="Đèn đường tắt cả tuần")
    assert response.status_code == 201, response.text
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    body = xmltodict.parse(response.content)["service_requests"]["request"]
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT commune_code, department FROM feedback_requests WHERE id = %s",
                    (int(body["service_request_id"]),))
        assert cur.fetchone() == (commune, "so_cong_thuong")


def test_malformed_posts_answer_open311_errors(live_url, app_key, spot):
    lat, lon, _, _ = spot
    cases = [
        ({"api_key": ""}, 401, "api_key"),
        ({"api_key": "ioc_wrong"}, 401, None),
        ({"service_code": "potholes"}, 400, "service_code"),
        ({"lat": "abc", "long": str(lon)}, 400, "lat"),
        ({"lat": "10.77", "long": "106.70"}, 400, "Lai Châu"),
        ({"lat": str(lat)}, 400, "long"),
        ({"description": ""}, 400, "description"),
        ({}, 400, "address_string"),
    ]
    for fields, status, words in cases:
        response = _post(live_url, fields.pop("api_key", app_key), **fields)
        assert response.status_code == status, (fields, response.text)
        [error] = response.json()
        assert error["code"] == status and (words is None or words in error["description"])
    response = requests.get(f"{live_url}/open311/v2/requests.json?status=pending", timeout=10)
    assert response.status_code == 400 and "open" in response.json()[0]["description"]
    response = requests.get(f"{live_url}/open311/v2/requests/999999999.json", timeout=10)
    assert response.status_code == 404
    response = requests.get(f"{live_url}/open311/v2/tokens/{'x' * 30}.xml", timeout=10)
    assert response.status_code == 404 and b"<errors>" in response.content


def test_a_retried_post_creates_one_request(live_url, app_key, spot, database_url):
    lat, lon, _, _ = spot
    key = str(uuid.uuid4())
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: _post(live_url, app_key, lat=str(lat), long=str(lon),
                                                headers={"Idempotency-Key": key}), range(8)))
    ids = {a.json()[0]["service_request_id"] for a in answers}
    assert len(ids) == 1
    assert sorted(a.status_code for a in answers).count(201) == 1
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM feedback_requests WHERE client_token = %s", (key,))
        assert cur.fetchone()[0] == 1


def test_identity_is_sealed_at_rest(live_url, app_key, spot, database_url):
    lat, lon, _, _ = spot
    [created] = _post(live_url, app_key, lat=str(lat), long=str(lon), first_name=NAME,
                      phone=PHONE, email=EMAIL).json()
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT sealed FROM feedback_identities WHERE request_id = %s",
                    (int(created["service_request_id"]),))
        sealed = bytes(cur.fetchone()[0])
    for secret in (NAME, PHONE, EMAIL, ID_NUMBER):
        assert secret.encode() not in sealed
