"""Redirects and links never echo the request's Host header: they use the public URL."""

import pytest

EVIL = "evil.example"


@pytest.mark.parametrize("path", ["/ogc", "/ogc?f=json", "/api/v1/layers/"])
def test_redirects_point_at_the_public_url(client, settings, path):
    response = client.get(path, headers={"host": EVIL}, follow_redirects=False)
    assert 300 <= response.status_code < 400, (path, response.status_code)
    location = response.headers["location"]
    assert EVIL not in location
    assert location.startswith(settings.base_url + "/"), location


def test_a_public_url_behind_a_proxy_keeps_its_path(settings):
    from api.redirects import public_location

    assert (public_location(f"http://{EVIL}/ogc/?f=json", "https://gis.laichau.gov.vn/ioc", EVIL)
            == "https://gis.laichau.gov.vn/ioc/ogc/?f=json")
    assert public_location("/ogc/", "https://gis.laichau.gov.vn", EVIL) == (
        "https://gis.laichau.gov.vn/ogc/")
    # Another site's address is somebody's deliberate link, not a reflected header.
    assert public_location("https://osm.org/x", "https://gis.laichau.gov.vn", EVIL) == (
        "https://osm.org/x")


@pytest.mark.parametrize("path", ["/ogc/?f=json", "/ogc/collections/schools?f=json",
                                  "/ogc/collections/schools/items?f=json&limit=2",
                                  "/ogc/collections/schools/items?f=html&limit=2",
                                  "/ogc/collections/schools/tiles"])
def test_links_use_the_public_url(client, settings, path):
    response = client.get(path, headers={"host": EVIL})
    assert response.status_code == 200, response.text[:300]
    assert EVIL not in response.text
    assert settings.base_url in response.text
