"""Floods and oversized bodies: counted in PostgreSQL per address (shared by workers, kept across
a restart), bounded before parsing; nothing lost, no identity in any refusal."""

from __future__ import annotations

import httpx

from tests.conftest import serving
from tests.feedback.conftest import PHONE


def test_reports_and_code_guesses_are_limited_across_a_restart(database_url, tmp_path, spot):
    lat, lon, _, _ = spot
    form = {"service_code": "waste", "description": "Rác ven đường", "lat": str(lat),
            "lon": str(lon), "phone": PHONE}
    with serving(database_url, tmp_path, feedback_posts_per_minute=3,
                 rate_window_seconds=3600) as url:
        codes = [httpx.post(f"{url}/api/v1/feedback/requests", data=form, timeout=30).status_code
                 for _ in range(3)]
        assert codes == [201, 201, 201]
        refused = httpx.post(f"{url}/api/v1/feedback/requests", data=form, timeout=30)
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
        assert "phản ánh" in refused.json()["detail"] and PHONE not in refused.text
    # Another worker started later: the count is in PostgreSQL, still over the limit.
    with serving(database_url, tmp_path, feedback_posts_per_minute=3,
                 rate_window_seconds=3600) as url:
        guess = httpx.get(f"{url}/api/v1/feedback/track/{'G' * 24}", timeout=30)
        assert guess.status_code == 429
        assert httpx.get(f"{url}/open311/v2/tokens/{'G' * 24}.json", timeout=30).status_code == 429


def test_bodies_are_bounded(client, spot):
    lat, lon, _, _ = spot
    huge = client.post("/api/v1/feedback/requests", data={"description": "x"},
                       files={"photo": ("p.jpg", b"\xff" * (17 * 2**20), "image/jpeg")})
    assert huge.status_code == 413
    long_form = client.post("/open311/v2/requests.json", data={"description": "x" * (2**20 + 10)})
    assert long_form.status_code == 413
    too_long = client.post("/api/v1/feedback/requests", data={
        "service_code": "waste", "description": "x" * 4001, "lat": str(lat), "lon": str(lon)})
    assert too_long.status_code == 400 and too_long.json()["parameter"] == "description"
