"""Field survey: a real JPEG with GPS EXIF made here round-trips through /field's API."""

import hashlib
import io
import json
import uuid
from pathlib import Path

import psycopg2
import pytest
from PIL import Image

from tests.auth.conftest import audit_head, audit_rows, bearer

URL = "/api/v1/field/households"


def _dms(value):
    value = abs(value)
    d = int(value)
    m = int((value - d) * 60)
    s = round(((value - d) * 60 - m) * 60, 4)
    return (float(d), float(m), s)


def make_jpeg(lon=None, lat=None, taken="2026:11:30 09:15:00", gps=None, size=(640, 480)):
    image = Image.new("RGB", size, (120, 160, 90))
    exif = Image.Exif()
    exif[0x010F] = "IOC test camera"
    if gps is None and lon is not None:
        gps = {1: "N" if lat >= 0 else "S", 2: _dms(lat), 3: "E" if lon >= 0 else "W", 4: _dms(lon)}
    if gps is not None:
        exif[0x8825] = gps
    exif[0x8769] = {0x9003: taken}
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif.tobytes())
    return buffer.getvalue()


def _point_in(database_url, code):
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM communes "
                    "WHERE code = %s) s", (code,))
        return cur.fetchone()


def _send(client, token, data, photo, content_type="image/jpeg"):
    return client.post(URL, headers=bearer(token),
                       data={"data": json.dumps(data, ensure_ascii=False)},
                       files={"photo": ("nha.jpg", photo, content_type)})


def _fields(code):
    return {"household_code": code, "head_of_household": "Giàng A Páo", "members": 5,
            "poverty_status": "poor", "house_type": "temporary", "village": "Bản Nậm Đích"}


def test_jpeg_with_gps_exif_round_trips(client, tokens, communes, database_url, settings):
    lon, lat = _point_in(database_url, communes[0])
    photo = make_jpeg(lon, lat)
    record = {"client_uuid": str(uuid.uuid4()), "position_source": "exif",
              "fields": _fields("HT-FIELD-1")}
    first = _send(client, tokens["field1"], record, photo)
    assert first.status_code == 201, first.text
    edit = first.json()
    assert edit["status"] == "pending" and edit["submitted_by"] == "field1"
    x, y = edit["geometry"]["coordinates"]
    assert abs(x - lon) < 1e-5 and abs(y - lat) < 1e-5
    props = edit["properties"]
    sha = hashlib.sha256(photo).hexdigest()
    assert props["photo_refs"] == [sha]
    assert props["surveyed_at"].startswith("2026-11-30T09:15:00")
    assert props["commune_code"] == communes[0] and props["head_of_household"] == "Giàng A Páo"

    again = _send(client, tokens["field1"], record, photo)
    assert again.status_code == 200 and again.json()["id"] == edit["id"]
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pending_edits WHERE client_uuid = %s",
                    (record["client_uuid"],))
        assert cur.fetchone()[0] == 1
        cur.execute("SELECT exif_lon, exif_lat, size FROM field_photos WHERE sha256 = %s", (sha,))
        exif_lon, exif_lat, size = cur.fetchone()
    assert abs(exif_lon - lon) < 1e-5 and size == len(photo)

    original = next((Path(settings.var_dir) / "field" / "originals" / sha[:2]).glob(f"{sha}.*"))
    assert hashlib.sha256(original.read_bytes()).hexdigest() == sha
    served = client.get(f"/api/v1/field/photos/{sha}", headers=bearer(tokens["viewer1"]))
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(served.content)) as image:
        assert not dict(image.getexif()) and "exif" not in image.info
    thumb = client.get(f"/api/v1/field/photos/{sha}?size=thumb", headers=bearer(tokens["viewer1"]))
    with Image.open(io.BytesIO(thumb.content)) as image:
        assert max(image.size) <= 320
    assert client.get(f"/api/v1/field/photos/{sha}").status_code == 401

    approved = client.post(f"/api/v1/edits/{edit['id']}/approve", headers=bearer(tokens["deped1"]))
    assert approved.status_code == 200
    fid = approved.json()["applied_feature_id"]
    house = client.get(f"/ogc/collections/housing/items/{fid}", headers=bearer(tokens["deped1"]))
    assert house.json()["properties"]["photo_refs"] == [sha]
    assert house.json()["properties"]["approval_status"] == "approved"


def test_warnings_for_a_far_photo_and_a_house_nearby(client, tokens, communes, database_url):
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT household_code, ST_X(geom), ST_Y(geom) FROM housing "
                    "WHERE commune_code = %s ORDER BY id LIMIT 1", (communes[0],))
        code, lon, lat = cur.fetchone()
    photo = make_jpeg(lon + 0.002, lat)  # about 200 m east
    record = {"client_uuid": str(uuid.uuid4()), "position_source": "gps", "lon": lon + 0.00002,
              "lat": lat, "accuracy_m": 6.5, "fields": _fields("HT-FIELD-2")}
    response = _send(client, tokens["field1"], record, photo)
    assert response.status_code == 201, response.text
    codes = {w["code"]: w for w in response.json()["warnings"]}
    assert 150 < codes["photo-far-from-house"]["distance_m"] < 250
    assert codes["house-nearby"]["household_code"] == code
    assert codes["gps-accuracy"]["accuracy_m"] == 6.5


@pytest.mark.parametrize("case,status", [
    ("not-an-image", 415), ("too-large", 413), ("bad-exif-gps", 422), ("no-uuid", 422),
    ("outside-commune", 403), ("bad-field", 422),
])
def test_bad_submissions_write_nothing(client, tokens, communes, database_url, case, status):
    lon, lat = _point_in(database_url, communes[0])
    record = {"client_uuid": str(uuid.uuid4()), "position_source": "gps", "lon": lon, "lat": lat,
              "fields": _fields(f"HT-BAD-{case}")}
    photo = make_jpeg(lon, lat)
    if case == "not-an-image":
        photo = b"%PDF-1.4 not a photo" * 100
    elif case == "too-large":
        photo = b"\xff\xd8\xff" + b"\0" * (50 * 2**20)
    elif case == "bad-exif-gps":
        photo = make_jpeg(gps={1: "N", 2: (999.0, 0.0, 0.0), 3: "E", 4: (103.0, 0.0, 0.0)})
        record["position_source"] = "exif"
    elif case == "no-uuid":
        record.pop("client_uuid")
    elif case == "outside-commune":
        record["lon"], record["lat"] = _point_in(database_url, communes[1])
    elif case == "bad-field":
        record["fields"]["members"] = 99
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pending_edits")
        before = cur.fetchone()[0]
    since = audit_head(database_url)
    response = _send(client, tokens["field1"], record, photo)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pending_edits")
        assert cur.fetchone()[0] == before
    assert [r[4] for r in audit_rows(database_url, since, "field.submit")] == ["refused"]


def test_hostile_exif_is_ignored_with_a_warning(client, tokens, communes, database_url):
    lon, lat = _point_in(database_url, communes[0])
    photo = make_jpeg(gps={1: "N" * 5000, 2: (22.0, 99.0, 0.0), 3: b"\x00\xff", 4: (1e308, 0.0, 0.0)},
                      taken="not a date at all")
    record = {"client_uuid": str(uuid.uuid4()), "position_source": "gps", "lon": lon, "lat": lat,
              "fields": _fields("HT-HOSTILE")}
    response = _send(client, tokens["field1"], record, photo)
    assert response.status_code == 201, response.text
    codes = {w["code"] for w in response.json()["warnings"]}
    assert {"exif-gps-invalid", "exif-time-invalid"} <= codes


def test_only_field_writers_submit(client, tokens, communes, database_url):
    lon, lat = _point_in(database_url, communes[0])
    record = {"client_uuid": str(uuid.uuid4()), "lon": lon, "lat": lat, "fields": _fields("HT-V")}
    assert _send(client, tokens["viewer1"], record, make_jpeg()).status_code == 403
    anonymous = client.post(URL, data={"data": json.dumps(record)},
                            files={"photo": ("a.jpg", make_jpeg(), "image/jpeg")})
    assert anonymous.status_code == 401


def test_field_page_is_vietnamese_and_self_contained(client):
    page = client.get("/field")
    assert page.status_code == 200
    assert "Khảo sát nhà ở" in page.text and "Chủ hộ" in page.text and "Hộ cận nghèo" in page.text
    assert "http://" not in page.text and "https://" not in page.text
    assert client.get("/static/field.js").status_code == 200
