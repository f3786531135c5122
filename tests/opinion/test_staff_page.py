"""The staff page of public opinion in headless Chromium: an operator corrects an item's sector
(kept as a training example under their name) and retrains the classifier from the page."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.opinion.conftest import item_ids
from tests.staff.conftest import PASSWORD, make_account, sql

pytestmark = pytest.mark.browser


def test_an_operator_corrects_an_item_and_retrains_from_the_page(
        browser, live_url, replayed, job_worker, database_url):
    user = make_account(database_url, "opinion_op", "operator")
    url = "https://example.vn/p/6-spike-6"
    item_id = item_ids(database_url, url)[url]
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="vi-VN")
    page = context.new_page()
    host = urlsplit(live_url).netloc
    outside: list[str] = []
    errors: list[str] = []

    def route(route) -> None:
        target = urlsplit(route.request.url)
        if target.scheme in ("data", "blob") or target.netloc == host:
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", route)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        page.goto(f"{live_url}/staff/login?next=/staff/opinion", wait_until="load")
        page.fill("[name=username]", user)
        page.fill("[name=password]", PASSWORD)
        page.click("#login-form button[type=submit]")
        row = page.locator(f"#opinion-table tr[data-item='{item_id}']")
        page.select_option("#opinion-filter [name=commune]", "03478")
        page.click("#opinion-filter button[type=submit]")
        row.wait_for()
        assert row.locator(".sector").inner_text() == "Giao thông"
        assert row.locator("button[data-action=incident]").count() == 1  # urgent, operator
        row.locator("button[data-action=correct]").click()
        assert page.locator("#correction").is_visible()
        page.select_option("#correction-form [name=sector]", "environment")
        page.click("#correction-form button[type=submit]")
        page.wait_for_function("(t) => document.getElementById('flash').textContent.includes(t)",
                               arg=f"Đã sửa nhãn mục #{item_id}")
        page.wait_for_function(
            "(id) => document.querySelector(`#opinion-table tr[data-item='${id}'] .sector`)"
            ".textContent === 'Môi trường'", arg=item_id)
        [(sector, by)] = sql(database_url, "SELECT sector, corrected_by FROM opinion_corrections "
                             "WHERE item_id = %s ORDER BY id DESC LIMIT 1", item_id)
        assert (sector, by) == ("environment", user)
        page.click("#retrain-form button[type=submit]")
        page.wait_for_function("() => document.getElementById('flash').textContent"
                               ".startsWith('Phiên bản')", timeout=180_000)
        page.locator("#models-table tbody tr[data-version]").first.wait_for()
        [(version, decision)] = sql(database_url, "SELECT id, decision FROM opinion_models "
                                    "ORDER BY id DESC LIMIT 1")
        assert f"Phiên bản {version}" in page.inner_text("#flash")
        assert decision in ("activated", "kept_worse")
        assert not errors and not outside
    finally:
        context.close()
