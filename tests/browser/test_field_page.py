"""/field in headless Chromium: sign in, photo, GPS, household fields, save — online and offline."""

import psycopg2

from tests.auth.conftest import PASSWORD
from tests.auth.test_field import _point_in, make_jpeg


def _pending(database_url, code):
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pending_edits WHERE properties->>'household_code' = %s",
                    (code,))
        return cur.fetchone()[0]


def _fill(page, code, photo_path):
    page.set_input_files("#photo", str(photo_path))
    page.evaluate("""([code]) => {
      const set = (n, v) => { const el = document.querySelector(`[name=${n}]`);
        el.value = v; el.dispatchEvent(new Event('change')); };
      set('household_code', code); set('head_of_household', 'Lò Thị Xuân');
      set('members', '3'); set('poverty_status', 'near_poor'); set('house_type', 'permanent');
      set('village', 'Bản Hon'); }""", [code])


def _position(page):
    page.evaluate("document.getElementById('locate').click()")
    page.wait_for_function("document.getElementById('position').textContent.includes('±')")
    return page.inner_text("#position")


def test_a_record_is_saved_online_and_offline_without_duplicates(
        browser, live_url, people, communes, database_url, tmp_path):
    lon, lat = _point_in(database_url, communes[0])
    photo = tmp_path / "nha.jpg"
    photo.write_bytes(make_jpeg(lon, lat))
    context = browser.new_context(geolocation={"latitude": lat, "longitude": lon, "accuracy": 8},
                                  permissions=["geolocation"])
    page = context.new_page()
    try:
        page.goto(f"{live_url}/field")
        assert page.evaluate("document.documentElement.lang") == "vi"
        assert page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        page.fill("#login [name=username]", "field1")
        page.fill("#login [name=password]", PASSWORD)
        page.evaluate("document.getElementById('login').requestSubmit()")
        page.wait_for_function("!document.getElementById('survey-box').hidden")

        assert "±8 m" in _position(page)
        _fill(page, "HT-BROWSER-1", photo)
        page.evaluate("document.getElementById('survey').requestSubmit()")
        page.wait_for_function("document.getElementById('save-msg').textContent.includes('Đã gửi')")
        assert _pending(database_url, "HT-BROWSER-1") == 1

        context.set_offline(True)
        page.wait_for_function("!navigator.onLine")
        _position(page)
        _fill(page, "HT-BROWSER-2", photo)
        page.evaluate("document.getElementById('survey').requestSubmit()")
        page.wait_for_function("document.getElementById('count').textContent === '(1)'")
        assert _pending(database_url, "HT-BROWSER-2") == 0
        # Reopening the page without a network: the service worker's copy, the record still queued.
        page.reload()
        page.wait_for_function("document.getElementById('count').textContent === '(1)'")
        assert page.title().startswith("Khảo sát nhà ở")

        context.set_offline(False)
        page.wait_for_function("document.getElementById('count').textContent === ''")
        assert _pending(database_url, "HT-BROWSER-2") == 1
        page.evaluate("flush()")  # sending again finds nothing left to send
        assert _pending(database_url, "HT-BROWSER-1") == 1
        assert _pending(database_url, "HT-BROWSER-2") == 1
    finally:
        context.close()
