"""/field in headless Chromium: sign in, photo, GPS, household fields, save — online and offline."""

import os

import psycopg2
import pytest

from tests.auth.conftest import PASSWORD
from tests.auth.test_field import _point_in, make_jpeg
from tests.browser.cdp import Browser, chromium_path

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    executable = chromium_path()
    if executable is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed")
        pytest.skip("chromium is not installed")
    driver = Browser(executable)
    yield driver
    driver.close()


def _pending(database_url, code):
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pending_edits WHERE properties->>'household_code' = %s",
                    (code,))
        return cur.fetchone()[0]


def _fill(browser, code, photo_path):
    browser.set_files("#photo", [str(photo_path)])
    browser.eval(f"""(() => {{
      const set = (n, v) => {{ const el = document.querySelector(`[name=${{n}}]`);
        el.value = v; el.dispatchEvent(new Event('change')); }};
      set('household_code', '{code}'); set('head_of_household', 'Lò Thị Xuân');
      set('members', '3'); set('poverty_status', 'near_poor'); set('house_type', 'permanent');
      set('village', 'Bản Hon');
      return true; }})()""")


def test_a_record_is_saved_online_and_offline_without_duplicates(
        browser, live_url, people, communes, database_url, tmp_path):
    lon, lat = _point_in(database_url, communes[0])
    photo = tmp_path / "nha.jpg"
    photo.write_bytes(make_jpeg(lon, lat))
    browser.send("Browser.grantPermissions", permissions=["geolocation"], origin=live_url)
    browser.send("Emulation.setGeolocationOverride", latitude=lat, longitude=lon, accuracy=8)
    browser.goto(f"{live_url}/field")
    assert browser.eval("document.documentElement.lang") == "vi"
    browser.wait_for("navigator.serviceWorker.ready.then(() => true)")
    browser.eval(f"""(() => {{ const f = document.getElementById('login');
      f.username.value = 'field1'; f.password.value = '{PASSWORD}';
      f.requestSubmit(); return true; }})()""")
    browser.wait_for("!document.getElementById('survey-box').hidden")

    browser.eval("document.getElementById('locate').click()")
    assert "±8 m" in browser.wait_for(
        "document.getElementById('position').textContent.includes('±') && "
        "document.getElementById('position').textContent")
    _fill(browser, "HT-BROWSER-1", photo)
    browser.eval("document.getElementById('survey').requestSubmit()")
    browser.wait_for("document.getElementById('save-msg').textContent.includes('Đã gửi')")
    assert _pending(database_url, "HT-BROWSER-1") == 1

    browser.send("Network.enable")
    browser.send("Network.emulateNetworkConditions", offline=True, latency=0,
                 downloadThroughput=-1, uploadThroughput=-1)
    browser.wait_for("!navigator.onLine")
    browser.eval("document.getElementById('locate').click()")
    browser.wait_for("document.getElementById('position').textContent.includes('±')")
    _fill(browser, "HT-BROWSER-2", photo)
    browser.eval("document.getElementById('survey').requestSubmit()")
    browser.wait_for("document.getElementById('count').textContent === '(1)'")
    assert _pending(database_url, "HT-BROWSER-2") == 0
    # Reopening the page without a network: the service worker's copy, the record still queued.
    browser.eval("window.beforeReload = true")
    browser.send("Page.reload")
    browser.wait_for("!window.beforeReload && document.readyState === 'complete' && "
                     "document.getElementById('count').textContent === '(1)'")
    assert browser.eval("document.title").startswith("Khảo sát nhà ở")

    browser.send("Network.emulateNetworkConditions", offline=False, latency=0,
                 downloadThroughput=-1, uploadThroughput=-1)
    browser.wait_for("document.getElementById('count').textContent === ''")
    assert _pending(database_url, "HT-BROWSER-2") == 1
    browser.eval("flush()")  # sending again finds nothing left to send
    assert _pending(database_url, "HT-BROWSER-1") == 1 and _pending(database_url, "HT-BROWSER-2") == 1
