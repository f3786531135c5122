"""The situation view in headless Chromium: offline, drawn, switchable, clickable, scenarios."""

from __future__ import annotations

import os
import warnings
from urllib.parse import urlsplit

import numpy as np
import psycopg2
import pytest
from rasterio.errors import NotGeoreferencedWarning
from rasterio.io import MemoryFile

pytestmark = pytest.mark.browser

# Endpoints built in parallel; until they are served, their panels say "no data yet".
PENDING = {"/api/v1/indicators", "/api/v1/warnings", "/api/v1/quality", "/api/v1/scenarios"}


def pending(url: str) -> bool:
    path = urlsplit(url).path
    return path in PENDING or path.startswith("/api/v1/indicators/")


def pixels(png: bytes) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)  # a PNG has no georeference
        with MemoryFile(png) as memory, memory.open() as image:
            return image.read()


def test_the_view_loads_offline_with_no_errors(visit, client):
    visit.open("/map")
    assert visit.outside == []
    assert [e for e in visit.errors if "Failed to load resource" not in e] == []
    # Every failed request is an endpoint not served yet, and its panel says so.
    assert all(pending(url) and status == 404 for status, url in visit.failed), visit.failed
    state = visit.page.evaluate("IOC.state")
    for panel, url, box in (("warnings", "/api/v1/warnings", "#not-met"),
                            ("quality", "/api/v1/quality", "#stale"),
                            ("scenarios", "/api/v1/scenarios", "#scenario")):
        served = client.get(url).status_code == 200
        assert state[panel] == ("ok" if served else "missing")
        if not served:
            assert "chưa có dữ liệu" in visit.page.locator(box).inner_text()
    assert visit.page.locator("html").get_attribute("lang") == "vi"
    if os.environ.get("IOC_SCREENSHOT"):
        visit.settle()
        visit.page.screenshot(path=os.environ["IOC_SCREENSHOT"])


def test_english_on_the_switch(visit):
    visit.open("/map")
    visit.page.locator("#lang-switch").click()
    visit.page.wait_for_function("window.IOC && IOC.state && IOC.state.panels")
    assert visit.page.locator("html").get_attribute("lang") == "en"
    assert "Indicators not met" in visit.page.locator("#panel").inner_text()
    assert "Terrain (SYNTHETIC" in visit.page.locator(".leaflet-control-layers").inner_text()


def test_hillshade_and_boundaries_are_drawn(visit):
    visit.open("/map")
    visit.settle()
    tiles = visit.page.evaluate("""() => [...document.querySelectorAll('.leaflet-tile-pane img')]
        .filter(i => i.complete && i.naturalWidth === 256).map(i => i.src)""")
    assert any("/tiles/raster/terrain/hillshade/" in src for src in tiles)
    assert visit.painted("boundaries") > 1000  # the province and commune outlines
    shot = pixels(visit.page.locator(".folium-map").screenshot())
    grey = shot[:3].mean(axis=0)
    assert grey.std() > 15 and len(np.unique(grey.astype(int))) > 50  # relief, not a blank map


def test_switching_a_layer_group_changes_what_is_drawn(visit, database_url):
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT ST_X(geom), ST_Y(geom) FROM schools ORDER BY id LIMIT 1")
        lon, lat = cur.fetchone()
    visit.open("/map")
    visit.page.evaluate("([lat, lon]) => IOC.map.setView([lat, lon], 13, {animate: false})", [lat, lon])
    visit.settle()
    before = visit.painted("overlay")
    image_before = pixels(visit.page.locator(".folium-map").screenshot())
    visit.page.locator(".leaflet-control-layers-overlays label", has_text="Hạ tầng kỹ thuật").click()
    visit.page.wait_for_function("IOC.map.hasLayer(IOC.groups.infrastructure)")
    visit.settle()
    after = visit.page.wait_for_function(
        """() => { let n = 0; document.querySelectorAll('.leaflet-overlay-pane canvas').forEach(c => {
             const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
             for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; }); return n > 0 && n; }""",
        timeout=30_000).json_value()
    assert before == 0 and after > 0
    image_after = pixels(visit.page.locator(".folium-map").screenshot())
    assert (np.abs(image_after.astype(int) - image_before.astype(int)).sum(axis=0) > 30).sum() > 50
    visit.page.locator(".leaflet-control-layers-overlays label", has_text="Hạ tầng kỹ thuật").click()
    visit.settle()
    assert visit.painted("overlay") == 0


def test_clicking_a_commune_shows_its_details(visit, database_url, client):
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT code, name, ST_X(p), ST_Y(p) FROM (SELECT code, name, "
                    "ST_PointOnSurface(geom) AS p FROM communes ORDER BY area_km2 DESC LIMIT 1) c")
        code, name, lon, lat = cur.fetchone()
    expected = {r["code"]: r for r in client.get("/api/v1/rasters/terrain/communes").json()}[code]
    visit.open("/map")
    visit.page.evaluate("([lat, lon]) => IOC.map.setView([lat, lon], 11, {animate: false})", [lat, lon])
    visit.settle()
    visit.click_at(lon, lat)
    visit.page.wait_for_function(f"document.querySelector('#details').dataset.terrain === '{code}'")
    text = visit.page.locator("#details").inner_text()
    assert name in text and code in text
    assert "Độ cao trung bình" in text
    shown = f"{expected['mean_elevation_m']:,.1f}".replace(",", "X").replace(".", ",").replace("X", ".")
    assert shown.rstrip("0").rstrip(",") in text
    if visit.page.evaluate("IOC.state.choropleth") == "ok":
        assert "Mục tiêu" in text  # the chosen indicator's value against its target


def test_a_drawn_radius_runs_a_scenario(visit, database_url, client):
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT ST_X(geom), ST_Y(geom) FROM schools ORDER BY id LIMIT 1")
        lon, lat = cur.fetchone()
    visit.open("/map")
    visit.page.evaluate("([lat, lon]) => IOC.map.setView([lat, lon], 13, {animate: false})", [lat, lon])
    visit.settle()
    visit.page.locator(".leaflet-draw-draw-circle").click()
    box = visit.page.locator(".folium-map").bounding_box()
    centre = visit.page.evaluate("([lat, lon]) => IOC.map.latLngToContainerPoint([lat, lon])", [lat, lon])
    x, y = box["x"] + centre["x"], box["y"] + centre["y"]
    visit.page.mouse.move(x, y)
    visit.page.mouse.down()
    visit.page.mouse.move(x + 60, y, steps=5)
    visit.page.mouse.up()
    selection = visit.page.evaluate("IOC.state.selection")
    assert selection["type"] == "radius" and selection["radius_m"] > 100
    assert selection["lon"] == pytest.approx(lon, abs=0.001)
    if client.get("/api/v1/scenarios").status_code != 200:
        pytest.skip("the scenario API is not served by this build")
    visit.page.locator("#run-scenario").click()
    visit.page.wait_for_function("IOC.state.result !== null", timeout=30_000)
    result = visit.page.evaluate("IOC.state.result")
    assert "error" not in result and result["type"] == "FeatureCollection"
    assert result["features"] and result["summary"]
    panel = visit.page.locator("#scenario-result")
    assert "Kết quả" in panel.inner_text()
    assert panel.locator("tr").count() == min(len(result["summary"]), 20)
    drawn = visit.page.evaluate("document.querySelectorAll('.leaflet-results-pane path').length")
    assert drawn >= 1  # the result is on the map


def test_clicking_a_feature_shows_its_public_attributes(visit, database_url):
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT name, ST_X(geom), ST_Y(geom) FROM schools ORDER BY id LIMIT 1")
        name, lon, lat = cur.fetchone()
    visit.open("/map")
    visit.page.evaluate("([lat, lon]) => IOC.map.setView([lat, lon], 15, {animate: false})", [lat, lon])
    visit.page.locator(".leaflet-control-layers-overlays label", has_text="Hạ tầng kỹ thuật").click()
    visit.page.wait_for_function("IOC.map.hasLayer(IOC.groups.infrastructure)")
    visit.settle()
    visit.click_at(lon, lat)
    popup = visit.page.locator(".leaflet-popup-content")
    popup.wait_for()
    text = popup.inner_text()
    assert "Trường học" in text and name in text
    assert "Tên" in text  # the field's title, not its column name


def test_a_warning_is_one_click_from_its_place(visit, client):
    warnings = client.get("/api/v1/warnings")
    if warnings.status_code != 200 or not warnings.json()["indicators_not_met"]:
        pytest.skip("no indicator below target in this build")
    first = warnings.json()["indicators_not_met"][0]
    visit.open("/map")
    item = visit.page.locator("#not-met li").first
    assert first["commune_name"] in item.inner_text()
    item.click()
    visit.page.wait_for_function(
        """([lat, lon]) => IOC.map.getCenter().distanceTo([lat, lon]) < 50 && !IOC.map._animatingZoom
           && document.querySelector('.leaflet-popup-content')""",
        arg=[first["lat"], first["lon"]], timeout=15_000)
    assert first["commune_name"] in visit.page.locator(".leaflet-popup-content").inner_text()


def test_the_choropleth_follows_the_period_and_explains_a_bad_one(visit, client):
    if client.get("/api/v1/indicators/poor_household_rate/choropleth").status_code != 200:
        pytest.skip("the indicator API is not served by this build")
    visit.open("/map")
    period = visit.page.locator("#period")
    period.fill("năm ngoái")
    period.press("Enter")
    period.dispatch_event("change")
    visit.page.wait_for_function("IOC.state.choropleth === 'error'")
    status = visit.page.locator("#choropleth-status").inner_text()
    expected = client.get("/api/v1/indicators/poor_household_rate/choropleth",
                          params={"period": "năm ngoái"}).json()["detail"]
    assert status == expected  # the server's Vietnamese explanation, not a blank panel
    period.fill("2025")
    period.dispatch_event("change")
    visit.page.wait_for_function("IOC.state.choropleth === 'ok'")
    assert "(2025)" in visit.page.locator("#choropleth-status").inner_text()
    assert visit.page.evaluate("document.querySelectorAll('.leaflet-choropleth-pane path').length") == 38


def test_a_stale_dataset_is_one_click_from_its_layer(visit, client):
    from layers.registry import get_layer

    quality = client.get("/api/v1/quality")
    if quality.status_code != 200:
        pytest.skip("the quality API is not served by this build")
    stale = [row for row in quality.json()["layers"] if row.get("stale") or row.get("live") is False]
    if not stale:
        pytest.skip("no stale dataset in the samples")
    visit.open("/map")
    item = visit.page.locator("#stale li").first
    assert stale[0]["title"]["vi"] in item.inner_text()
    item.click()
    group = get_layer(stale[0]["layer"]).group
    visit.page.wait_for_function(f"IOC.map.hasLayer(IOC.groups['{group}'])")


def test_households_are_drawn_for_a_signed_in_user_only(visit, people, database_url):
    from tests.auth.conftest import PASSWORD

    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT ST_X(geom), ST_Y(geom) FROM housing ORDER BY id LIMIT 1")
        lon, lat = cur.fetchone()
    label = ".leaflet-control-layers-overlays label"

    def households_drawn() -> int:
        visit.page.evaluate("([lat, lon]) => IOC.map.setView([lat, lon], 15, {animate: false})", [lat, lon])
        visit.page.locator(label, has_text="Nhà ở").click()
        visit.page.wait_for_function("IOC.map.hasLayer(IOC.groups.housing)")
        visit.settle()
        return visit.painted("overlay")

    visit.open("/map")
    assert households_drawn() == 0  # the public: no points of households
    assert any(status == 401 and "/tiles/housing/" in url for status, url in visit.failed)
    form = visit.page.locator("#sign-in")
    form.locator("[name=username]").fill("viewer1")
    form.locator("[name=password]").fill(PASSWORD)
    with visit.page.expect_navigation():
        form.locator("button").click()
    visit.page.wait_for_function("window.IOC && IOC.state && IOC.state.panels && IOC.state.tilesLoaded >= 2")
    assert "viewer1" in visit.page.locator("#signed-as").inner_text()
    assert households_drawn() > 0
