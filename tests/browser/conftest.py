"""Headless Chromium (Debian's ``/usr/bin/chromium``) driven by Playwright's Python client,
against ``live_url``, no browser downloaded.

The situation view's tests (``visit``) abort and record every request that would leave 127.0.0.1,
so a test can assert that none was attempted. The field page's tests sign in with the accounts
of the authorization tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.auth.conftest import communes, people, tokens  # noqa: F401

pytestmark = pytest.mark.browser


@pytest.fixture(scope="session")
def terrain(settings, samples_dir) -> Path:
    """The synthetic terrain in the served application's raster folder."""
    from tiles.raster import ensure_terrain

    return ensure_terrain(settings.var_dir, samples_dir / "province.geojson")


@dataclass
class Visit:
    """A page and what it did: console errors, failed responses, requests that left the machine."""

    page: object
    base: str
    errors: list[str] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)

    def open(self, path: str) -> None:
        """Open ``path`` and wait until the view is drawn and its panels have answered."""
        self.page.goto(self.base + path, wait_until="load")
        self.page.wait_for_function(
            "window.IOC && IOC.state && IOC.state.panels && IOC.state.tilesLoaded >= 2",
            timeout=30_000)

    def painted(self, pane: str) -> int:
        """Non-transparent pixels drawn on the canvases of a map pane."""
        return self.page.evaluate("""(pane) => [...document.querySelectorAll(
            `.leaflet-${pane}-pane canvas`)].reduce((n, c) => {
              if (!c.width || !c.height) return n;
              const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
              let k = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) k++;
              return n + k; }, 0)""", pane)

    def settle(self) -> None:
        """Wait until no tile of any grid layer is still loading."""
        self.page.wait_for_function("""() => {
            let busy = false;
            IOC.map.eachLayer(l => { if (l._tiles && Object.values(l._tiles).some(t => !t.loaded))
              busy = true; });
            return !busy; }""", timeout=30_000)
        self.page.wait_for_timeout(150)  # one more frame for the canvases to paint

    def click_at(self, lon: float, lat: float) -> None:
        """Click the map where ``lon``, ``lat`` is drawn."""
        box = self.page.locator(".folium-map").bounding_box()
        point = self.page.evaluate("([lat, lon]) => IOC.map.latLngToContainerPoint([lat, lon])",
                                   [lat, lon])
        self.page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])


@pytest.fixture
def visit(browser, live_url, terrain) -> Iterator[Visit]:
    """A fresh 1920×1080 page that may only reach the platform itself."""
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    host = urlsplit(live_url).netloc
    record = Visit(page, live_url)

    def route(route) -> None:
        url = urlsplit(route.request.url)
        if url.scheme in ("data", "blob") or url.netloc == host:
            route.continue_()
        else:
            record.outside.append(route.request.url)
            route.abort()

    page.route("**/*", route)
    page.on("console", lambda m: record.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: record.errors.append(f"page error: {e}"))
    page.on("response", lambda r: record.failed.append((r.status, r.url)) if r.status >= 400 else None)
    yield record
    context.close()
