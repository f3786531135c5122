"""A station's alert on the situation view, live: a reading over the alarm level published over
MQTT appears on /map without a reload, with its incident and what that reaches; when the river
falls the alert leaves the page by itself."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

import psycopg2
import pytest

from tests.sensors.conftest import MQTT, _broker_up
from tests.sensors.test_ingest import publish

pytestmark = pytest.mark.browser


@pytest.fixture
def listening(database_url):
    """The MQTT listener on the served database, on a topic root of this test's own."""
    from api.cli_iot import _connect, open_incident
    from sensors.mqtt import Listener
    from sensors.store import Store

    if not _broker_up():
        pytest.skip(f"no MQTT broker at {MQTT[0]}:{MQTT[1]}")
    root = f"ioc-test-{uuid.uuid4().hex[:8]}/stations"
    x = Listener(f"mqtt://{MQTT[0]}:{MQTT[1]}", _connect(database_url), Store(open_incident, root))
    thread = threading.Thread(target=x.run, daemon=True)
    thread.start()
    assert x.ready.wait(10), "listener did not subscribe"
    yield root
    x.stop()
    thread.join(timeout=10)


def test_an_alert_appears_with_its_incident_and_clears_without_a_reload(visit, database_url,
                                                                        listening):
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT id, name, ST_X(geom), ST_Y(geom) FROM iot_stations "
                    "WHERE kind = 'water_level' ORDER BY id DESC LIMIT 1")
        station, name, lon, lat = cur.fetchone()
    page = visit.page
    visit.open("/map")
    page.wait_for_function("IOC.sensorState && IOC.sensorState.updates >= 1", timeout=30_000)
    page.evaluate("window.sameDocument = true")  # gone if the page reloads
    now = datetime.now(UTC).replace(microsecond=0)
    publish(listening, [(station, {"phenomenonTime": (now - timedelta(minutes=2)).isoformat(),
                                   "result": 4.6})])
    item = page.locator(f"#sensor-alerts li.sensor-alert:has-text('{name}')")
    item.wait_for(timeout=30_000)
    assert "Mực nước vượt báo động II" in item.inner_text() and "4,6" in item.inner_text()
    assert item.get_attribute("data-status") == "raised"
    alert = int(item.get_attribute("data-alert"))
    # Its incident and what it reaches, fetched once and shown under the alert.
    figures = item.locator(".incident[data-households]")
    figures.wait_for(timeout=30_000)
    text = figures.inner_text()
    incident = int(figures.get_attribute("data-incident"))
    assert f"Sự cố #{incident}" in text and "hộ nghèo" in text and "trường học" in text
    assert "cơ sở y tế" in text
    page.locator("#incidents").get_by_text(f"#{incident}").wait_for(timeout=30_000)
    # The station's marker, one click away from its last day as a chart (from /sta/v1.1).
    page.evaluate("""([lat, lon]) => Object.values(IOC.map._layers).find(l => l instanceof
        L.CircleMarker && l.options.pane !== 'incidents' && l.getLatLng().lat === lat
        && l.getLatLng().lng === lon).fire('click')""",
                  [lat, lon])
    page.locator(".leaflet-popup .station-chart polyline").wait_for(state="attached", timeout=30_000)
    # The river falls: the alert leaves the page by itself.
    publish(listening, [(station, {"phenomenonTime": (now - timedelta(minutes=1)).isoformat(),
                                   "result": 3.0})])
    page.locator(f"#sensor-alerts li[data-alert='{alert}']").wait_for(state="detached",
                                                                       timeout=30_000)
    assert page.evaluate("window.sameDocument") is True
    assert [e for e in visit.errors if "Failed to load resource" not in e] == []
    assert visit.outside == []
    # Leave the session's open incidents as they were.
    from scenarios import incidents

    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        assert incidents.get(cur, incident)["timeline"][-1]["note"].startswith("Hết cảnh báo")
        incidents.change_status(cur, incident, incidents.StatusChange(status="closed"), "test")
