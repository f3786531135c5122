"""A case through the whole workflow over HTTP: web intake, routing, two staff taking it at once,
the status flow, the answer, the rating; deadlines on a simulated clock; the identity revealed
only with a reason and a second approver."""

from __future__ import annotations

import io
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime

import httpx
import psycopg2
import pytest
from PIL import Image

from tests.feedback.conftest import EMAIL, ID_NUMBER, NAME, PHONE, audit_texts

API = "/api/v1/feedback"


def _photo_with_gps() -> bytes:
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (22.0, 24.0, 0.0), 3: "E", 4: (103.0, 27.0, 0.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def _report(client, spot, **extra):
    lat, lon, _, _ = spot
    data = {"service_code": "waste", "description": "Bãi rác tự phát cạnh suối Nậm Lụm",
            "lat": str(lat), "lon": str(lon), "name": NAME, "phone": PHONE, "email": EMAIL,
            "id_number": ID_NUMBER, "client_token": str(uuid.uuid4()), **extra}
    response = client.post(f"{API}/requests", data=data,
                           files={"photo": ("p.jpg", _photo_with_gps(), "image/jpeg")})
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture(scope="module")
def people(staff):
    return {"op": staff("operator"), "nn_mt": staff("department_editor", "so_nn_mt"),
            "nn_mt2": staff("leader", "so_nn_mt"), "xd": staff("department_editor", "so_xay_dung"),
            "viewer": staff("viewer")}


def test_whole_workflow(client, spot, people, database_url):
    sent = _report(client, spot)
    rid, token = sent["service_request_id"], sent["token"]
    assert sent["department"] == "so_nn_mt"
    twin = _report(client, spot)["service_request_id"]
    similar = client.get(f"{API}/cases/{twin}", headers=people["op"]).json()["similar"]
    assert int(rid) in {s["id"] for s in similar}
    # The served photo carries no EXIF (no position, no device).
    photo = client.get(f"{API}/photos/{rid}.jpg")
    assert photo.status_code == 200 and not Image.open(io.BytesIO(photo.content)).getexif()

    case = client.get(f"{API}/cases/{rid}", headers=people["op"]).json()
    assert case["reporter"].startswith("Người phản ánh #") and case["status"] == "received"
    assert client.get(f"{API}/cases/{rid}", headers=people["xd"]).status_code == 403
    assert client.get(f"{API}/cases/{rid}", headers=people["viewer"]).status_code == 403
    assert client.get(f"{API}/cases/{rid}").status_code == 401

    steps = [("op", "forward", {"department": "so_nn_mt", "note": "Rác thải: Sở NN&MT"}),
             ("nn_mt", "take", None),
             ("nn_mt", "status", {"status": "in_progress"}),
             ("nn_mt", "status", {"status": "resolved", "note": "Đã thu gom"}),
             ("nn_mt", "status", {"status": "returned",
                                  "response": "Đã thu gom rác và cắm biển cấm đổ rác."})]
    for who, action, body in steps:
        response = client.post(f"{API}/cases/{rid}/{action}", json=body, headers=people[who])
        assert response.status_code == 200, (action, response.text)
    assert client.post(f"{API}/cases/{rid}/status", json={"status": "classified"},
                       headers=people["nn_mt"]).status_code == 409

    tracked = client.get(f"{API}/track/{token}").json()
    assert tracked["status"] == "closed" and tracked["status_step"] == "returned"
    assert tracked["response"] == "Đã thu gom rác và cắm biển cấm đổ rác."
    assert [s["status"] for s in tracked["steps"]][-1] == "returned"
    # A low rating reopens the case; the reporter is kept informed through the same code.
    rated = client.post(f"{API}/track/{token}/rating", json={"rating": 2, "comment": "Vẫn còn rác"})
    assert rated.json() == {"status_step": "in_progress", "rating": 2}
    case = client.get(f"{API}/cases/{rid}", headers=people["nn_mt"]).json()
    assert [s["action"] for s in case["steps"]] == [
        "received", "forwarded", "taken", "in_progress", "resolved", "returned", "rated"]
    assert case["answered_late"] is None and case["overdue"] is False

    # Nothing staff or the public read names the reporter.
    outputs = [client.get(f"{API}/cases", headers=people["op"]).text,
               client.get(f"{API}/cases/{rid}", headers=people["nn_mt"]).text,
               client.get(f"{API}/track/{token}").text,
               client.get("/open311/v2/requests.json").text,
               client.get(f"{API}/indicators").text, audit_texts(database_url)]
    for output in outputs:
        for secret in (NAME, PHONE, EMAIL, ID_NUMBER):
            assert secret not in output


def test_two_staff_take_the_same_case_one_wins(client, live_url, spot, people):
    rid = _report(client, spot)["service_request_id"]
    both = [people["nn_mt"], people["nn_mt2"]] * 3
    with ThreadPoolExecutor(6) as pool:
        codes = list(pool.map(lambda h: httpx.post(f"{live_url}{API}/cases/{rid}/take", headers=h,
                                                   timeout=30).status_code, both))
    holder = client.get(f"{API}/cases/{rid}", headers=people["op"]).json()["assigned_to"]
    names = {"t-department-editor-so-nn-mt": people["nn_mt"], "t-leader-so-nn-mt": people["nn_mt2"]}
    # The winner's repeated takes all succeed; every take of the other person is refused.
    expected = [200 if h is names[holder] else 409 for h in both]
    assert codes == expected


def test_reveal_needs_a_reason_and_a_second_approver(client, spot, people, database_url):
    rid = _report(client, spot)["service_request_id"]
    asker, approver = people["nn_mt"], people["nn_mt2"]
    short = client.post(f"{API}/cases/{rid}/reveals", json={"reason": "xem"}, headers=asker)
    assert short.status_code == 400
    assert client.post(f"{API}/cases/{rid}/reveals", json={"reason": "Cần liên hệ xác minh hiện "
                       "trường"}, headers=people["op"]).status_code == 403
    reveal = client.post(f"{API}/cases/{rid}/reveals", headers=asker,
                         json={"reason": "Cần gọi điện xác minh vị trí bãi rác"}).json()
    read = f"{API}/reveals/{reveal['id']}/identity"
    assert client.get(read, headers=asker).status_code == 409  # not approved yet
    assert client.post(f"{API}/reveals/{reveal['id']}/approve", headers=asker).status_code == 403
    assert client.post(f"{API}/reveals/{reveal['id']}/approve", headers=approver).status_code == 200
    assert client.get(read, headers=approver).status_code == 403  # only the one who asked
    shown = client.get(read, headers=asker).json()
    assert shown["identity"] == {"name": NAME, "phone": PHONE, "email": EMAIL,
                                 "id_number": ID_NUMBER}
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT actor, reason, details->>'approved_by' FROM audit_log "
                    "WHERE action = 'feedback.identity.read' AND target = %s",
                    (f"feedback_requests/{rid}",))
        assert cur.fetchall() == [("t-department-editor-so-nn-mt",
                                   "Cần gọi điện xác minh vị trí bãi rác", "t-leader-so-nn-mt")]


def test_deadline_across_a_holiday_warns_then_escalates(client, spot, people, database_url):
    """Received Wednesday 30 Dec 2026: 10 working days skip New Year's Day and two weekends."""
    from feedback import cases
    from feedback.calendar import add_working_days
    from gis_core.db import engine_for

    lat, lon, _, _ = spot
    received = datetime(2026, 12, 30, 3, 0, tzinfo=UTC)
    with engine_for(database_url).begin() as conn:
        case, _ = cases.submit(conn, b"k" * 32, cases.Submission(
            "street_light", "Đèn đường hỏng", lat, lon), received=received)
    assert case["due_on"] == date(2027, 1, 14) == add_working_days(date(2026, 12, 30), 10)
    assert cases.deadline_state(case, date(2027, 1, 12)) == {
        "days_left": 2, "overdue": False, "due_soon": True, "answered_late": None}
    assert cases.deadline_state(case, date(2026, 12, 31))["due_soon"] is False
    late = cases.deadline_state(case, date(2027, 1, 15))
    assert late["overdue"] is True and late["days_left"] == -1
    # On today's clock: a case whose deadline has passed is on the operator's overdue list.
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("UPDATE feedback_requests SET due_on = current_date - 3 WHERE id = %s",
                    (case["id"],))
    overdue = client.get(f"{API}/cases?overdue=true", headers=people["op"]).json()
    assert case["id"] in {c["id"] for c in overdue["cases"]} and overdue["overdue"] >= 1
    theirs = client.get(f"{API}/cases?overdue=true", headers=people["xd"]).json()["cases"]
    assert case["id"] not in {c["id"] for c in theirs}  # another department's case
    share = client.get(f"{API}/indicators?by=department").json()
    row = next(u for u in share["units"] if u["unit"] == "so_cong_thuong")
    assert row["due"] >= 1 and row["share_pct"] < 100


def test_bad_web_reports(client, spot):
    lat, lon, _, _ = spot
    base = {"service_code": "waste", "description": "Rác", "lat": str(lat), "lon": str(lon)}
    for change, status, parameter in [({"service_code": "x"}, 400, "service_code"),
                                      ({"lat": "200"}, 400, "lat"),
                                      ({"lat": "21.03", "lon": "105.85"}, 400, "lat"),
                                      ({"description": "  "}, 400, "description")]:
        response = client.post(f"{API}/requests", data={**base, **change})
        assert response.status_code == status, response.text
        assert response.json()["parameter"] == parameter
    not_image = client.post(f"{API}/requests", data=base,
                            files={"photo": ("a.jpg", b"%PDF-1.4 not an image", "image/jpeg")})
    assert not_image.status_code == 415
    assert client.get(f"{API}/track/{'A' * 24}").status_code == 404


def test_on_time_shares_feed_the_scenarios_flags(client, spot, people, database_url):
    """A commune with a case answered late and one still open past its deadline is flagged."""
    from feedback import cases
    from gis_core.db import engine_for

    lat, lon, commune, _ = spot
    with engine_for(database_url).begin() as conn:
        late, _ = cases.submit(conn, b"k" * 32, cases.Submission(
            "water_supply", "Mất nước ba ngày", lat, lon),
            received=datetime(2025, 3, 3, 2, 0, tzinfo=UTC))
        ok, _ = cases.submit(conn, b"k" * 32, cases.Submission(
            "water_supply", "Nước đục", lat, lon), received=datetime(2025, 3, 3, 2, 0, tzinfo=UTC))
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("UPDATE feedback_requests SET status = 'returned', response = 'Đã sửa', "
                    "answered_at = '2025-03-05T03:00:00Z' WHERE id = %s", (ok["id"],))
    assert ok["due_on"] == date(2025, 3, 17)
    shares = client.get(f"{API}/indicators?period=2025-03").json()
    row = next(u for u in shares["units"] if u["unit"] == commune)
    assert (row["due"], row["on_time"], row["share_pct"]) == (2, 1, 50.0)
    assert client.post(f"{API}/indicators", json={"period": "2025-03"},
                       headers=people["viewer"]).status_code == 403
    published = client.post(f"{API}/indicators", json={"period": "2025-03"}, headers=people["op"])
    assert published.status_code == 201, published.text
    warnings = client.get("/api/v1/warnings?period=2025-03").json()["indicators_not_met"]
    flagged = [w for w in warnings if w["indicator"] == "feedback_on_time_pct"]
    assert {(w["commune_code"], w["value"], w["target"]) for w in flagged} == {(commune, 50.0, 100.0)}
    assert client.get(f"{API}/indicators?period=2025-13").status_code == 400


def test_a_retry_racing_the_first_post_keeps_one_request(database_url, spot):
    """The retry passes the early look-up while the first is uncommitted; the unique key decides
    and the retry's own rows go."""
    import threading

    from feedback import cases
    from gis_core.db import engine_for

    lat, lon, _, _ = spot
    engine = engine_for(database_url)
    token = str(uuid.uuid4())
    report = cases.Submission("waste", "Rác cháy âm ỉ", lat, lon, identity={"name": NAME},
                              client_token=token)
    outcome = {}
    with engine.begin() as first:
        created, new = cases.submit(first, b"k" * 32, report)
        retry = threading.Thread(target=lambda: outcome.update(
            zip(("case", "new"), _submit_in(engine, report), strict=True)))
        retry.start()
        retry.join(timeout=2)
        assert retry.is_alive()  # waiting on the first one's unique key
    retry.join(timeout=30)
    assert new is True and outcome["new"] is False and outcome["case"]["id"] == created["id"]
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*), (SELECT count(*) FROM feedback_identities i WHERE "
                    "i.request_id = ANY(array_agg(r.id))) FROM feedback_requests r "
                    "WHERE client_token = %s", (token,))
        assert cur.fetchone() == (1, 1)
        cur.execute("SELECT count(*) FROM feedback_events e WHERE NOT EXISTS (SELECT 1 FROM "
                    "feedback_requests r WHERE r.id = e.request_id)")
        assert cur.fetchone()[0] == 0


def _submit_in(engine, report):
    from feedback import cases

    with engine.begin() as conn:
        return cases.submit(conn, b"k" * 32, report)
