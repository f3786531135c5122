"""/feedback in headless Chromium: pick the place on the map, send with a photo, keep the tracking
code, follow the case; a report typed offline is sent once when the connection returns."""

import psycopg2

from tests.auth.test_field import make_jpeg


def _spot(database_url):
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT ST_Y(p), ST_X(p), code FROM communes, ST_PointOnSurface(geom) p "
                    "ORDER BY code DESC LIMIT 1")
        return cur.fetchone()


def _rows(database_url, description):
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT r.commune_code, r.photo IS NOT NULL, i.sealed IS NOT NULL "
                    "FROM feedback_requests r LEFT JOIN feedback_identities i ON i.request_id = r.id "
                    "WHERE r.description = %s", (description,))
        return cur.fetchall()


def _pick(page, lat, lon):
    page.evaluate("([lat, lon]) => window.feedbackMap.setView([lat, lon], 13, {animate: false})",
                  [lat, lon])
    x, y = page.evaluate("([lat, lon]) => { const p = window.feedbackMap.latLngToContainerPoint("
                         "[lat, lon]); return [p.x, p.y]; }", [lat, lon])
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + y)
    page.wait_for_function("document.querySelector('[name=lat]').value !== ''")


def _fill(page, description):
    page.select_option("[name=service_code]", "road_damage")
    page.fill("[name=description]", description)
    page.fill("[name=name]", "Giàng A Páo")
    page.fill("[name=phone]", "0987654321")


def test_report_follow_and_offline_once(browser, live_url, database_url, tmp_path):
    lat, lon, commune = _spot(database_url)
    photo = tmp_path / "duong.jpg"
    photo.write_bytes(make_jpeg(lon, lat))
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(f"{live_url}/feedback")
        assert page.evaluate("document.documentElement.lang") == "vi"
        assert "Gửi phản ánh" in page.inner_text("#send")
        _pick(page, lat, lon)
        _fill(page, "Đường vào bản bị sạt, ô tô không đi được")
        page.set_input_files("[name=photo]", str(photo))
        page.click("#send")
        page.wait_for_function("!document.getElementById('code').hidden", timeout=20_000)
        assert "Đã gửi phản ánh số" in page.inner_text("#send-msg")
        token = page.inner_text("#code").rsplit(" ", 1)[-1]
        assert _rows(database_url, "Đường vào bản bị sạt, ô tô không đi được") == [
            (commune, True, True)]

        page.fill("#follow [name=token]", token)
        page.click("#follow button[type=submit]")
        page.wait_for_function("document.getElementById('follow-msg').textContent.includes("
                               "'received')")

        context.set_offline(True)
        page.wait_for_function("!navigator.onLine")
        _fill(page, "Cầu treo bản Mù bị hỏng ván")
        page.click("#send")
        page.wait_for_function("document.getElementById('send-msg').textContent.includes("
                               "'Đã lưu trên máy')")
        assert _rows(database_url, "Cầu treo bản Mù bị hỏng ván") == []
        context.set_offline(False)
        page.wait_for_function("document.getElementById('send-msg').textContent.includes("
                               "'Đã gửi phản ánh số')", timeout=20_000)
        page.reload()
        page.wait_for_function("document.getElementById('net').textContent === 'Trực tuyến'")
        assert len(_rows(database_url, "Cầu treo bản Mù bị hỏng ván")) == 1
        assert page.evaluate("localStorage.getItem('ioc-feedback-queue')") == "[]"

        page.goto(f"{live_url}/feedback?lang=en")
        assert "Send" in page.inner_text("#send")
    finally:
        context.close()
