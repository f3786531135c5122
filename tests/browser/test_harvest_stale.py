"""The situation view warns a signed-in user of a harvested source that is down."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_a_source_down_shows_as_stale(visit, people, database_url):  # noqa: ANN001, ANN201
    from gis_core.db import engine_for
    from harvest import declarations, run, sources
    from tests.auth.conftest import PASSWORD
    from tests.conftest import _free_port

    engine = engine_for(database_url)
    decl = declarations.from_dict({
        "name": "so-yte-tram", "title": "Trạm y tế (Sở Y tế)", "layer": "health_facilities",
        "kind": "geojson", "key": "ma", "url": f"http://127.0.0.1:{_free_port()}/tram.geojson"})
    with engine.begin() as conn:
        sources.put(conn, decl, "test")
    assert run.run_source(engine, "so-yte-tram", "test")["status"] == "failed"
    try:
        visit.open("/map")
        assert "Trạm y tế (Sở Y tế)" not in visit.page.locator("#stale").inner_text()
        form = visit.page.locator("#sign-in")
        form.locator("[name=username]").fill("viewer1")
        form.locator("[name=password]").fill(PASSWORD)
        with visit.page.expect_navigation():
            form.locator("button").click()
        visit.page.wait_for_function("document.querySelector('#stale').innerText.includes('Sở Y tế')")
        text = visit.page.locator("#stale").inner_text()
        assert "Dữ liệu cũ: nguồn lỗi từ" in text
    finally:
        with engine.begin() as conn:
            sources.remove(conn, "so-yte-tram")
