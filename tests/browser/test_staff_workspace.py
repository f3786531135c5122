"""The staff workspace (/staff) in headless Chromium, walked as the people who use it: a
department editor imports a file, a leader approves and rejects, an editor enters indicator
values, the operator locks an account; each walk's clicks and seconds are printed."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import psycopg2
import pytest

from api.staff.pages import PAGES
from tests.auth.conftest import PASSWORD, bearer
from tests.auth.test_import_approval import TREE_HEADER, _csv, _place, _upload

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("IOC_STAFF_SCREENSHOTS")  # a folder: save the walks' screenshots there


def _sql(database_url, query, *params):
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute(query, params)
        return cur.fetchall()


@pytest.fixture(scope="module", autouse=True)
def restore_samples(database_url):
    """Approved imports change the trees layer: put the samples back afterwards."""
    yield
    from api.cli import load_samples
    from tests.conftest import SCALE

    load_samples(database_url, SCALE)


@dataclass
class Walk:
    """One person's page: clicks and keys counted, time taken, what went wrong in the page."""

    page: object
    base: str
    name: str
    clicks: int = 0
    started: float = field(default_factory=time.monotonic)
    errors: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)

    def click(self, selector: str) -> None:
        self.clicks += 1
        self.page.locator(selector).first.click()

    def sign_in(self, username: str, path: str = "/staff") -> None:
        self.page.goto(self.base + path)
        self.page.fill("[name=username]", username)
        self.page.fill("[name=password]", PASSWORD)
        self.click("#login-form button[type=submit]")
        self.page.wait_for_selector("#who")

    def menu(self, label: str) -> None:
        self.click(f"nav >> text={label}")
        self.page.wait_for_load_state("load")

    def flash(self, text: str) -> str:
        self.page.wait_for_function("(t) => document.getElementById('flash').textContent.includes(t)",
                                    arg=text)
        return self.page.inner_text("#flash")

    def done(self) -> tuple[int, float]:
        seconds = time.monotonic() - self.started
        print(f"\nwalk {self.name}: {self.clicks} clicks, {seconds:.1f} s")  # noqa: T201
        return self.clicks, seconds

    def shot(self, name: str, selector: str | None = None) -> None:
        if SHOTS:
            Path(SHOTS).mkdir(parents=True, exist_ok=True)
            target = self.page.locator(selector) if selector else self.page
            target.screenshot(path=str(Path(SHOTS) / f"staff-{name}.png"))


@pytest.fixture
def walk(browser, live_url, people, terrain, job_worker):
    """``walk(name)``: a fresh laptop-sized page that may only reach the platform (imports and
    retraining run as jobs: the session's worker takes them)."""
    contexts = []

    def open_(name: str) -> Walk:
        context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="vi-VN")
        contexts.append(context)
        page = context.new_page()
        record = Walk(page, live_url, name)
        host = urlsplit(live_url).netloc

        def route(route) -> None:
            target = urlsplit(route.request.url)
            if target.scheme in ("data", "blob") or target.netloc == host:
                route.continue_()
            else:
                record.outside.append(route.request.url)
                route.abort()

        page.route("**/*", route)
        page.on("dialog", lambda dialog: dialog.accept())
        page.on("pageerror", lambda e: record.errors.append(f"page error: {e}"))
        page.on("console", lambda m: record.errors.append(m.text)
                if m.type == "error" and "Failed to load resource" not in m.text else None)
        return record

    yield open_
    for context in contexts:
        context.close()


def test_a_department_editor_imports_a_file_with_a_bad_row_fixes_it_and_it_goes_pending(
        walk, database_url, communes, tmp_path):
    lon, lat = _place(database_url, communes[0])
    bad = tmp_path / "cay_xanh.csv"
    bad.write_bytes(_csv(TREE_HEADER, [["Pơ mu", 5, "Tốt", lon, lat],
                                       ["Sa mộc", "cao lắm", "Tốt", lon + 1e-4, lat]]))
    w = walk("import")
    w.sign_in("deped1")
    assert w.page.locator("html").get_attribute("lang") == "vi"
    w.menu("Nhập dữ liệu")
    w.page.select_option("[name=layer]", "trees")
    w.page.set_input_files("[name=file]", str(bad))
    w.page.fill("[name=dataset]", "cay_trinh_duyet")
    w.click("button[value=dry]")
    w.page.wait_for_selector("table.errors")
    errors = w.page.inner_text("table.errors")
    assert "3" in errors and "cao lắm" in errors  # the row as the user counts it, and its value
    assert "Tệp bị từ chối" in w.page.inner_text("#import-result")
    w.shot("import-errors")
    bad.write_bytes(_csv(TREE_HEADER, [["Pơ mu", 5, "Tốt", lon, lat],
                                       ["Sa mộc", 12, "Tốt", lon + 1e-4, lat]]))
    w.page.set_input_files("[name=file]", str(bad))
    w.click("button[value=dry]")
    assert "sẽ thêm 2" in w.flash("Kiểm tra xong")
    # The map of what would change: the two trees, as added.
    w.page.wait_for_function("document.querySelectorAll('#import-map path.leaflet-interactive')"
                             ".length === 2")
    assert w.page.get_attribute("#import-map path.leaflet-interactive", "stroke") == "#2e7d32"
    # Around them, the commune they lie in (from the platform's own OGC API).
    w.page.wait_for_function("document.querySelectorAll('#import-map path:not(.leaflet-interactive)')"
                             ".length >= 1")
    w.page.wait_for_load_state("networkidle")
    w.shot("import-dry-run")
    w.click("button[value=real]")
    message = w.flash("chờ người duyệt")
    clicks, _ = w.done()
    edit = _sql(database_url, "SELECT e.id, e.status FROM pending_edits e JOIN import_jobs j ON "
                "j.id = e.import_job WHERE j.dataset = 'cay_trinh_duyet'")
    assert len(edit) == 1 and edit[0][1] == "pending" and str(edit[0][0]) in message
    assert _sql(database_url, "SELECT count(*) FROM trees WHERE source_dataset = "
                "'cay_trinh_duyet'")[0][0] == 0
    # The dry runs are listed already: wait for the import itself, held for approval.
    w.page.wait_for_function("document.querySelector('#imports-table').textContent"
                             ".includes('Chờ duyệt')")
    assert "cay_trinh_duyet" in w.page.inner_text("#imports-table")
    w.shot("import")
    assert w.errors == [] and w.outside == [] and clicks <= 8


def test_a_leader_approves_one_edit_and_rejects_another_with_a_reason(
        walk, client, tokens, database_url, communes):
    lon, lat = _place(database_url, communes[0])
    ids = []
    for dataset in ("cay_duyet", "cay_khong_duyet"):
        body = _csv(TREE_HEADER, [["Thông ba lá", 8, "Tốt", lon, lat]])
        held = _upload(client, "trees", body, bearer(tokens["deped1"]), dataset)
        assert held.status_code == 202
        ids.append(held.json()["edit_id"])
    w = walk("review")
    w.sign_in("leader1")
    w.menu("Duyệt bản sửa")
    for edit_id, approve in zip(ids, (True, False), strict=True):
        w.click(f"tr[data-edit='{edit_id}'] button")
        w.page.wait_for_selector("#edit-detail:not([hidden])")
        assert f"#{edit_id}" in w.page.inner_text("#edit-title")
        # The pending import's map: the tree it would add.
        w.page.wait_for_function("document.querySelectorAll('#edit-map path.leaflet-interactive')"
                                 ".length === 1")
        if approve:
            w.shot("review", "#edit-detail")
            w.click("#approve")
            w.flash(f"Đã duyệt bản sửa {edit_id}")
        else:
            w.click("[name=reason]")
            w.page.keyboard.type("Trùng với dữ liệu đã có ở bản Hon")
            w.click("#reject")
            w.flash(f"Đã từ chối bản sửa {edit_id}")
        w.page.wait_for_function(f"!document.querySelector(\"tr[data-edit='{edit_id}']\")")
    clicks, _ = w.done()
    rows = dict(_sql(database_url, "SELECT id, status FROM pending_edits WHERE id IN (%s, %s)",
                     *ids))
    assert rows == {ids[0]: "approved", ids[1]: "rejected"}
    reason = _sql(database_url, "SELECT reason FROM pending_edits WHERE id = %s", ids[1])
    assert reason[0][0] == "Trùng với dữ liệu đã có ở bản Hon"
    assert _sql(database_url, "SELECT count(*) FROM trees WHERE source_dataset = 'cay_duyet'"
                )[0][0] == 1
    assert w.errors == [] and w.outside == [] and clicks <= 8


def test_a_reviewer_sees_the_field_by_field_conflicts_of_a_stale_approval(
        walk, client, tokens, database_url, communes):
    # An approver's page shows an edit, someone else approves it meanwhile: a clear message.
    lon, lat = _place(database_url, communes[0])
    body = _csv(TREE_HEADER, [["Bách xanh", 4, "Tốt", lon, lat]])
    edit_id = _upload(client, "trees", body, bearer(tokens["deped1"]), "cay_cu").json()["edit_id"]
    w = walk("stale")
    w.sign_in("leader1", "/staff/review")
    w.click(f"tr[data-edit='{edit_id}'] button")
    w.page.wait_for_selector("#edit-detail:not([hidden])")
    assert client.post(f"/api/v1/edits/{edit_id}/approve",
                       headers=bearer(tokens["deped2"])).status_code == 200
    w.click("#approve")
    w.page.wait_for_function("document.getElementById('flash').className.includes('error')")
    assert w.page.inner_text("#flash").strip()
    assert _sql(database_url, "SELECT status, reviewer FROM pending_edits WHERE id = %s",
                edit_id)[0] == ("approved", "deped2")


def test_an_editor_enters_indicator_values(walk, database_url):
    w = walk("indicators")
    w.sign_in("deped2")
    w.menu("Chỉ tiêu")
    w.page.select_option("[name=indicator]", "grdp_growth_pct")
    w.page.fill("[name=period]", "2029")
    w.page.fill("#value-form [name=value]", "7.25")
    w.page.fill("#value-form [name=note]", "Số liệu ước tính của Sở")
    w.click("#value-form button[type=submit]")
    w.flash("Đã ghi 1 giá trị")
    clicks, _ = w.done()
    assert "7.25" in w.page.inner_text("#values-table")
    stored = _sql(database_url, "SELECT value, entered_by, note FROM reported_values WHERE "
                  "indicator = 'grdp_growth_pct' AND period = '2029' AND unit_code = 'province'")
    assert stored == [(7.25, "deped2", "Số liệu ước tính của Sở")]
    w.shot("indicators")
    # A bad period: the server's message in Vietnamese, nothing written.
    w.page.fill("[name=period]", "2029")
    w.page.evaluate("document.querySelector('[name=period]').removeAttribute('pattern')")
    w.page.fill("[name=period]", "năm 2029")
    w.page.fill("#value-form [name=value]", "1")
    w.click("#value-form button[type=submit]")
    w.page.wait_for_function("document.getElementById('flash').className.includes('error')")
    assert _sql(database_url, "SELECT count(*) FROM reported_values WHERE period = 'năm 2029'"
                ) == [(0,)]
    assert w.errors == [] and w.outside == [] and clicks <= 4


def test_a_commune_editor_enters_its_communes_values(walk, database_url, communes):
    home, other = communes
    w = walk("commune-indicators")
    w.sign_in("communeed")
    w.menu("Chỉ tiêu")
    # Only the editor's own commune is offered, and the province is not.
    offered = w.page.eval_on_selector_all("#value-form [name=unit_code] option",
                                          "options => options.map(o => o.value)")
    assert offered == [home]
    w.page.select_option("[name=indicator]", "grdp_growth_pct")
    w.page.fill("[name=period]", "2028")
    w.page.fill("#value-form [name=value]", "6.5")
    w.page.fill("#value-form [name=note]", "Báo cáo của UBND xã")
    w.click("#value-form button[type=submit]")
    w.flash("Đã ghi 1 giá trị")
    clicks, _ = w.done()
    assert _sql(database_url, "SELECT unit_code, value, entered_by FROM reported_values WHERE "
                "indicator = 'grdp_growth_pct' AND period = '2028'") == [(home, 6.5, "communeed")]
    # Another commune, forced into the form: the server refuses it in Vietnamese, nothing written.
    w.page.evaluate(f"document.querySelector('#value-form [name=unit_code]').add("
                    f"new Option('{other}', '{other}', true, true))")
    w.page.fill("[name=period]", "2027")
    w.page.fill("#value-form [name=value]", "6.5")
    w.click("#value-form button[type=submit]")
    w.page.wait_for_function("document.getElementById('flash').className.includes('error')")
    assert "xã mình" in w.page.inner_text("#flash")
    assert _sql(database_url, "SELECT count(*) FROM reported_values WHERE indicator = "
                "'grdp_growth_pct' AND period = '2027'") == [(0,)]
    assert w.errors == [] and w.outside == [] and clicks <= 4


def test_the_operator_locks_an_account_and_its_open_page_is_refused_on_its_next_action(
        walk, database_url):
    from gis_core.db import engine_for
    from governance import accounts

    with engine_for(database_url).begin() as conn:
        accounts.create_account(conn, username="bi-khoa", role="department_editor",
                                password=PASSWORD, department="so_xay_dung")
    victim = walk("victim")
    victim.sign_in("bi-khoa")
    victim.menu("Chỉ tiêu")
    w = walk("lock")
    w.sign_in("op1")
    w.menu("Tài khoản")
    w.page.wait_for_selector("tr[data-user='bi-khoa']")
    w.click("tr[data-user='bi-khoa'] button[data-action=lock]")
    w.page.wait_for_function("document.querySelector(\"tr[data-user='bi-khoa'] .status\")"
                             ".textContent === 'locked'")
    clicks, _ = w.done()
    w.shot("accounts")
    assert _sql(database_url, "SELECT status FROM accounts WHERE username = 'bi-khoa'") == [
        ("locked",)]
    # The locked person's page, still open, tries to save: thrown out, told why, nothing written.
    victim.page.fill("[name=period]", "2030")
    victim.page.fill("#value-form [name=value]", "5")
    victim.click("#value-form button[type=submit]")
    victim.page.wait_for_url("**/staff/login?**")
    assert "locked" in victim.page.inner_text("#why")
    assert _sql(database_url, "SELECT count(*) FROM reported_values WHERE entered_by = 'bi-khoa'"
                ) == [(0,)]
    assert w.errors == [] and w.outside == [] and clicks <= 3


def test_every_page_is_keyboard_reachable_labelled_and_in_english_on_the_switch(walk):
    w = walk("keyboard")
    w.page.goto(w.base + "/staff")
    w.page.wait_for_selector("#login-form")
    # Sign in with the keyboard alone.
    w.page.keyboard.press("Tab")  # the skip link
    w.page.focus("[name=username]")
    w.page.keyboard.type("op1")
    w.page.keyboard.press("Tab")
    w.page.keyboard.type(PASSWORD)
    w.page.keyboard.press("Enter")
    w.page.wait_for_selector("#who")
    links = w.page.eval_on_selector_all("nav a", "as => as.map(a => a.getAttribute('href'))")
    assert len(links) == len(PAGES) + 1  # the operator sees every page, and the start page
    for href in links:
        w.page.goto(w.base + href)
        w.page.wait_for_load_state("networkidle")
        unlabelled = w.page.evaluate("""() => [...document.querySelectorAll(
            'main input, main select, main textarea')].filter(e => !e.closest('label')
            && !e.getAttribute('aria-label')).map(e => e.name || e.id)""")
        assert unlabelled == [], href
        # Tab from the top reaches the page's first control of main.
        reached = w.page.evaluate("""() => [...document.querySelectorAll(
            'a[href], button, input, select, textarea, summary')].filter(e => e.tabIndex >= 0
            && !e.disabled).length""")
        assert reached >= 10, href
        assert w.page.locator("html").get_attribute("lang") == "vi"
    w.page.goto(w.base + "/staff/audit")
    w.page.wait_for_function("document.getElementById('chain').textContent.includes('✔')")
    w.shot("audit")
    w.click("header .switch")
    w.page.wait_for_load_state("load")
    assert w.page.locator("html").get_attribute("lang") == "en"
    assert "Audit log" in w.page.inner_text("h1")
    assert w.errors == [] and w.outside == []


def test_a_role_sees_only_its_pages_and_the_server_refuses_the_others(walk):
    w = walk("viewer")
    w.sign_in("viewer1")
    menu = w.page.inner_text("nav")
    assert "Tài khoản của tôi" in menu and "Nhập dữ liệu" not in menu and "Nhật ký" not in menu
    response = w.page.goto(w.base + "/staff/accounts")
    assert response.status == 403
    assert "không dùng được" in w.page.inner_text("main")


def test_an_incident_is_recorded_and_moved_along_its_timeline(walk, database_url):
    lon, lat = _sql(database_url, "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p "
                    "FROM communes ORDER BY code LIMIT 1) s")[0]
    w = walk("incident")
    w.sign_in("communeed")
    w.menu("Sự cố")
    w.page.fill("#incident-form [name=title]", "Sạt lở đất tại bản Nà Luồng")
    w.page.select_option("#incident-form [name=kind]", "landslide")
    w.page.fill("#incident-form [name=lon]", str(lon))
    w.page.fill("#incident-form [name=lat]", str(lat))
    w.click("#incident-form button[type=submit]")
    w.page.wait_for_function("document.querySelector('#incidents-table').textContent"
                             ".includes('Nà Luồng')")
    row = "#incidents-table tr:has-text('Nà Luồng')"
    w.click(f"{row} button:has-text('Đang ứng phó')")
    # Once responding, it can no longer be cancelled: the row offers the next steps only.
    w.page.wait_for_function("""() => [...document.querySelectorAll('#incidents-table tr')]
        .some(r => r.textContent.includes('Nà Luồng') && r.textContent.includes('Đang ứng phó')
                   && !r.textContent.includes('Đã hủy'))""")
    assert _sql(database_url, "SELECT status, created_by FROM incidents WHERE title = "
                "'Sạt lở đất tại bản Nà Luồng'") == [("responding", "communeed")]
    assert w.errors == [] and w.outside == []


def test_one_changes_ones_password_and_ends_another_session(walk, database_url):
    from gis_core.db import engine_for
    from governance import accounts

    with engine_for(database_url).begin() as conn:
        accounts.create_account(conn, username="doi-mat-khau", role="viewer", password=PASSWORD)
    phone = walk("phone")
    phone.sign_in("doi-mat-khau")
    w = walk("me")
    w.sign_in("doi-mat-khau")
    w.menu("Tài khoản của tôi")
    w.page.wait_for_function("document.querySelectorAll('#sessions-table tbody tr').length === 2")
    assert "phiên này" in w.page.inner_text("#sessions-table")
    w.click("#sessions-table tr:not(:has-text('phiên này')) button")
    w.page.wait_for_function("document.querySelectorAll('#sessions-table tbody tr').length === 1")
    phone.page.reload()
    phone.page.wait_for_url("**/staff/login?**")  # the other browser is out
    w.page.fill("[name=current_password]", PASSWORD)
    w.page.fill("[name=new_password]", "Tam-Duong-2027-moi")
    w.click("#password-form button[type=submit]")
    w.page.wait_for_url("**/staff/login?**")
    assert "Đã đổi mật khẩu" in w.page.inner_text("#why")
    w.page.fill("[name=username]", "doi-mat-khau")
    w.page.fill("[name=password]", "Tam-Duong-2027-moi")
    w.click("#login-form button[type=submit]")
    w.page.wait_for_selector("#who")
    assert w.errors == [] and w.outside == []


def test_an_import_run_as_a_background_job_is_followed_to_its_end(walk, tmp_path):
    # The answer of an import queued as a job (202, its progress URL): the page polls it to the
    # end and shows the outcome, pending or rejected. The two answers are played to the page.
    import json

    state = {"polls": 0, "outcome": {}}

    def queued(route) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        route.fulfill(status=202, headers={"Location": "/api/v1/jobs/41"},
                      content_type="application/json",
                      body=json.dumps({"id": 41, "status": "queued",
                                       "links": {"self": "/api/v1/jobs/41"}}))

    def progress(route) -> None:
        state["polls"] += 1
        running = state["polls"] % 2 == 1
        body = {"id": 41, "status": "running" if running else "succeeded",
                "progress": 0.5 if running else 1.0, "stage": "kiểm tra / check",
                "result": None if running else state["outcome"]}
        route.fulfill(status=200, content_type="application/json", body=json.dumps(body))

    w = walk("job")
    w.sign_in("deped1", "/staff/imports")
    w.page.route("**/api/v1/layers/*/imports", queued)
    w.page.route("**/api/v1/jobs/41", progress)
    upload = tmp_path / "cay.csv"
    upload.write_bytes(_csv(TREE_HEADER, [["Pơ mu", 5, "Tốt", 103.4, 22.4]]))
    w.page.select_option("[name=layer]", "trees")
    w.page.set_input_files("[name=file]", str(upload))
    report = {"added": 1, "changed": 0, "removed": 0, "warnings": [], "status": "pending"}
    state["outcome"] = {"http_status": 202, "location": "/api/v1/edits/99",
                        "body": {"status": "pending", "edit_id": 99, "report": report}}
    w.click("button[value=real]")
    assert "bản sửa số 99" in w.flash("chờ người duyệt")
    assert state["polls"] == 2
    state["outcome"] = {"http_status": 422, "problem": {
        "detail": "Tệp có 1 dòng lỗi.", "extra": {"errors": [
            {"row": 2, "field": "height_m", "value": "cao", "reason": "không phải số",
             "reason_en": "not a number"}], "links": {"report_csv": "/api/v1/imports/5/report.csv"}}}}
    w.click("button[value=real]")
    w.page.wait_for_selector("table.errors")
    assert "không phải số" in w.page.inner_text("table.errors")
    assert "Tệp có 1 dòng lỗi." in w.page.inner_text("#flash")
    assert w.errors == [] and w.outside == []


def test_a_session_ended_mid_form_keeps_what_was_typed(walk, database_url):
    w = walk("expired")
    w.sign_in("deped2", "/staff/indicators")
    w.page.fill("[name=period]", "2028")
    w.page.fill("#value-form [name=value]", "6.5")
    w.page.fill("#value-form [name=note]", "Ước tính quý IV")
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:  # the session ends
        cur.execute("UPDATE sessions s SET revoked_at = now() FROM accounts a WHERE "
                    "a.id = s.account_id AND a.username = 'deped2'")
    w.click("#value-form button[type=submit]")
    w.page.wait_for_url("**/staff/login?**")
    assert "kết thúc" in w.page.inner_text("#why")
    w.page.fill("[name=username]", "deped2")
    w.page.fill("[name=password]", PASSWORD)
    w.click("#login-form button[type=submit]")
    w.page.wait_for_url("**/staff/indicators")
    assert w.page.input_value("#value-form [name=note]") == "Ước tính quý IV"
    assert w.page.input_value("#value-form [name=value]") == "6.5"
    w.click("#value-form button[type=submit]")
    w.flash("Đã ghi 1 giá trị")
    assert _sql(database_url, "SELECT value FROM reported_values WHERE period = '2028' AND "
                "note = 'Ước tính quý IV'") == [(6.5,)]


def test_a_leader_sets_a_target_with_its_legal_basis(walk, database_url):
    w = walk("target")
    w.sign_in("leader1", "/staff/indicators")
    w.page.select_option("#value-form [name=indicator]", "grdp_growth_pct")
    w.page.fill("#target-form [name=period]", "2030")
    w.page.fill("#target-form [name=value]", "8")
    w.page.fill("#target-form [name=legal_basis]", "Nghị quyết 01/NQ-HĐND, Điều 2")
    w.click("#target-form button[type=submit]")
    w.flash("Đã ghi 1 giá trị")
    assert _sql(database_url, "SELECT value, legal_basis, entered_by FROM indicator_targets "
                "WHERE indicator = 'grdp_growth_pct' AND period = '2030'") == [
        (8.0, "Nghị quyết 01/NQ-HĐND, Điều 2", "leader1")]
    assert w.errors == [] and w.outside == []


def test_the_cookie_is_out_of_scripts_reach_a_forged_change_is_refused_and_logout_revokes(
        walk, database_url):
    w = walk("csrf")
    w.sign_in("op1")
    assert "ioc_session" not in w.page.evaluate("document.cookie")
    cookie = next(c for c in w.page.context.cookies() if c["name"] == "ioc_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    forged = w.page.evaluate("""() => fetch('/api/v1/admin/users/viewer1/lock', {method: 'POST',
        headers: {'X-CSRF-Token': 'forged'}}).then(r => r.status)""")
    assert forged == 403
    assert _sql(database_url, "SELECT status FROM accounts WHERE username = 'viewer1'") == [
        ("active",)]
    w.click("#logout")
    w.page.wait_for_url("**/staff/login**")
    assert not [c for c in w.page.context.cookies() if c["name"] == "ioc_session"]
    w.page.context.add_cookies([cookie])  # the old cookie, replayed
    assert w.page.request.get(w.base + "/api/v1/auth/me").status == 401


def test_failing_records_are_one_click_from_the_quality_scores(walk, client, tokens):
    headers = bearer(tokens["leader1"])
    layers = client.get("/api/v1/quality", headers=headers).json()["layers"]
    layer, rule = next((layer, rule) for layer in layers for rule in client.get(
        f"/api/v1/quality/{layer['layer']}", headers=headers).json()["rules"] if rule["failed"])
    w = walk("quality")
    w.sign_in("leader1", "/staff/quality")
    w.click(f"#quality-table button.link:text-is('{layer['title']['vi']}')")
    w.click(f"#quality-detail tr[data-rule='{rule['rule']}'] button")
    w.page.wait_for_selector("#quality-detail ul.failures li a")
    first = w.page.get_attribute("#quality-detail ul.failures li a", "href")
    assert first.startswith(f"/ogc/collections/{layer['layer']}/items/")
    assert w.page.locator("#quality-detail ul.failures li").count() == min(rule["failed"], 50)
    assert w.errors == [] and w.outside == []


def test_a_leader_approves_an_editors_document_on_the_review_page(walk, client, tokens,
                                                                   database_url):
    from tests.browser.test_feature_documents import _pdf

    permit = _sql(database_url, "SELECT min(id) FROM construction_permits")[0][0]
    sent = client.post(f"/api/v1/layers/construction_permits/features/{permit}/documents",
                       headers=bearer(tokens["deped1"]),
                       data={"title": "Bản vẽ mặt đứng công trình", "kind": "drawing",
                             "decision": "77/GPXD"},
                       files={"file": ("mat_dung.pdf", _pdf(), "application/pdf")})
    assert sent.status_code == 202, sent.text
    doc = sent.json()["id"]
    w = walk("document")
    w.sign_in("leader1", "/staff/review")
    row = f"#documents-table tr[data-document='{doc}']"
    w.page.wait_for_selector(row)
    assert "deped1" in w.page.inner_text(row) and "77/GPXD" in w.page.inner_text(row)
    w.click(f"{row} button.primary")
    w.page.wait_for_function(f"!document.querySelector(\"{row}\")")
    assert "bản 1" in w.page.inner_text("#flash")
    assert _sql(database_url, "SELECT status, reviewer, version FROM feature_documents "
                "WHERE id = %s", doc)[0] == ("approved", "leader1", 1)
