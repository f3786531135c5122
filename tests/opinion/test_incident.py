"""An item made into an incident of the emergency scenario: its commune as the incident's area,
the item attached, by a role that may open incidents; two clicks at once make one incident."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.feedback.conftest import audit_texts
from tests.opinion.conftest import item_ids

API = "/api/v1/opinion"


def test_two_clicks_at_once_open_one_landslide_incident_over_the_commune(client, staff,
                                                                        replayed, database_url):
    # A post of the spike: "sạt lở đất vùi lấp đường … đoạn qua Sìn Hồ".
    item_id = item_ids(database_url, "https://example.vn/p/6-spike-4")[
        "https://example.vn/p/6-spike-4"]
    item = client.get(f"{API}/items/{item_id}", headers=staff("operator")).json()
    assert item["urgent"] and item["commune_code"] == "03478" and item["incident_id"] is None

    def click(headers):
        return client.post(f"{API}/items/{item_id}/incident", headers=headers)

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(click, (staff("operator"), staff("leader"))))
    assert sorted(a.status_code for a in answers) == [200, 201], [a.text for a in answers]
    assert len({a.json()["incident"]["id"] for a in answers}) == 1
    incident = answers[0].json()["incident"]
    assert incident["kind"] == "landslide" and incident["status"] == "reported"
    assert f"#{item_id}" in incident["title"] and "Sìn Hồ" in incident["title"]
    assert incident["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert client.get(f"{API}/items/{item_id}",
                      headers=staff("operator")).json()["incident_id"] == incident["id"]
    # The incident is the emergency scenario's: its impact answers over the commune.
    impact = client.get(f"/api/v1/incidents/{incident['id']}/impact")
    assert impact.status_code == 200, impact.text
    assert "opinion.incident_opened" in audit_texts(database_url)


def test_who_may_open_one_and_an_unplaced_item(client, staff, replayed, database_url):
    item_id = item_ids(database_url, "https://example.vn/p/6-spike-5")[
        "https://example.vn/p/6-spike-5"]
    assert client.post(f"{API}/items/{item_id}/incident",
                       headers=staff("viewer")).status_code == 403
    assert client.post(f"{API}/items/{item_id}/incident").status_code == 401
    import psycopg2

    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT id FROM opinion_items WHERE commune_code IS NULL LIMIT 1")
        unplaced = cur.fetchone()[0]
    refused = client.post(f"{API}/items/{unplaced}/incident", headers=staff("operator"))
    assert refused.status_code == 400 and "lon" in refused.json()["detail"]
    there = client.post(f"{API}/items/{unplaced}/incident", headers=staff("operator"),
                        json={"kind": "flood", "lon": 103.46, "lat": 22.40, "radius_m": 500})
    assert there.status_code == 201, there.text
    assert there.json()["incident"]["kind"] == "flood"
