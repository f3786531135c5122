"""The browser's session: an HttpOnly, SameSite=Strict cookie; every change made with it needs the
anti-forgery token; signing out revokes it. Bearer tokens keep working beside it."""

from __future__ import annotations

from urllib.parse import unquote

from tests.auth.conftest import audit_head, audit_rows
from tests.staff.conftest import PASSWORD, make_account, sql


def test_the_cookie_is_httponly_strict_and_the_token_is_never_in_the_body(app, database_url):
    from fastapi.testclient import TestClient

    make_account(database_url, "cookie-a", "department_editor", "so_xay_dung")
    with TestClient(app) as client:
        response = client.post("/api/v1/auth/session",
                               json={"username": "cookie-a", "password": PASSWORD})
        assert response.status_code == 200
        cookie = response.headers["set-cookie"]
        attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
        assert cookie.startswith("ioc_session=v1.")
        assert {"httponly", "path"} <= attributes
        assert "samesite=strict" in cookie.lower()
        body = response.json()
        assert "access_token" not in body and "v1." not in str(body)
        assert body["account"]["username"] == "cookie-a" and len(body["csrf"]) == 64
        me = client.get("/api/v1/auth/me")
        assert me.status_code == 200 and me.json()["role"] == "department_editor"


def test_a_change_without_the_csrf_token_is_refused_and_changes_nothing(
        browser_session, database_url):
    make_account(database_url, "cookie-b", "department_editor", "so_xay_dung")
    client, csrf = browser_session("cookie-b")
    row = [{"indicator": "grdp_growth_pct", "period": "2031", "value": 7.5}]
    head = audit_head(database_url)
    # Without the token the cookie lends no authority: the request is anonymous (401 here).
    anonymous = client.post("/api/v1/reported-values", json=row)
    assert anonymous.status_code == 401, anonymous.text
    for headers in ({"X-CSRF-Token": "0" * 64}, {"X-CSRF-Token": csrf[:-1] + "x"},
                    {"X-CSRF-Token": ""}):
        refused = client.post("/api/v1/reported-values", json=row, headers=headers)
        assert refused.status_code == 403, refused.text
        assert "CSRF" in refused.json()["detail"]
        assert refused.headers["content-type"].startswith("application/problem+json")
    assert sql(database_url, "SELECT count(*) FROM reported_values WHERE period = '2031'")[0][0] == 0
    assert len(audit_rows(database_url, head, "auth.csrf")) == 3
    # Signing out is a change too: refused without the token, the session stays open.
    assert client.post("/api/v1/auth/logout").status_code == 401
    assert client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": "x"}).status_code == 403
    assert client.get("/api/v1/auth/me").status_code == 200
    written = client.post("/api/v1/reported-values", json=row, headers={"X-CSRF-Token": csrf})
    assert written.status_code == 201 and written.json()["written"] == 1


def test_logout_revokes_the_session_and_clears_the_cookie(browser_session, database_url):
    make_account(database_url, "cookie-c", "viewer")
    client, csrf = browser_session("cookie-c")
    token = client.cookies.get("ioc_session")
    response = client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
    assert response.status_code == 204
    assert "ioc_session=" in response.headers["set-cookie"]
    assert 'max-age=0' in response.headers["set-cookie"].lower()
    # The old cookie value, replayed, is refused: the session is revoked on the server.
    client.cookies.set("ioc_session", token)
    assert client.get("/api/v1/auth/me").status_code == 401
    assert sql(database_url, "SELECT count(*) FROM sessions s JOIN accounts a ON a.id = "
               "s.account_id WHERE a.username = 'cookie-c' AND s.revoked_at IS NULL")[0][0] == 0


def test_a_locked_account_is_thrown_out_on_its_next_request_with_a_reason(
        browser_session, client, tokens, database_url):
    make_account(database_url, "cookie-d", "department_editor", "so_xay_dung")
    session, _ = browser_session("cookie-d")
    locked = client.post("/api/v1/admin/users/cookie-d/lock",
                         headers={"Authorization": f"Bearer {tokens['op1']}"})
    assert locked.status_code == 200
    refused = session.get("/api/v1/auth/me")
    assert refused.status_code == 401
    assert "locked" in refused.json()["detail"]  # says why, not just "sign in again"
    page = session.get("/staff/imports", follow_redirects=False)
    assert page.status_code == 303 and "/staff/login?next=/staff/imports&why=" in \
        page.headers["location"] and "locked" in unquote(page.headers["location"])


def test_bearer_tokens_need_no_csrf_token(client, tokens):
    row = [{"indicator": "grdp_growth_pct", "period": "2032", "value": 6.0}]
    response = client.post("/api/v1/reported-values", json=row,
                           headers={"Authorization": f"Bearer {tokens['deped1']}"})
    assert response.status_code == 201


def test_other_pages_of_the_platform_work_beside_a_browser_session(browser_session, people,
                                                                    database_url):
    # The field page signs in for a bearer token and the map runs scenarios anonymously: the
    # staff cookie in the same browser neither blocks them nor lends them its authority.
    make_account(database_url, "cookie-e", "department_editor", "so_xay_dung")
    session, _ = browser_session("cookie-e")
    token = session.post("/api/v1/auth/token", json={"username": "cookie-e", "password": PASSWORD})
    assert token.status_code == 200
    as_bearer = session.get("/api/v1/auth/me",
                            headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    assert as_bearer.status_code == 200
    # A cross-site form post (no token) riding an operator's cookie changes nothing.
    operator, _ = browser_session("op1")
    assert operator.get("/api/v1/admin/users").status_code == 200  # reads are the operator's
    forged = operator.post("/api/v1/admin/users/cookie-e/lock")
    assert forged.status_code == 401
    assert sql(database_url, "SELECT status FROM accounts WHERE username = 'cookie-e'") == [
        ("active",)]


def test_the_sign_in_page_shows_only_the_platforms_own_reasons(client):
    planted = client.get("/staff/login", params={"why": "Gọi 0912345678 để mở khóa tài khoản"})
    assert planted.status_code == 200
    assert "0912345678" not in planted.text and "Phiên đã kết thúc" in planted.text
    locked = "Tài khoản đang ở trạng thái 'locked'; mọi phiên đã kết thúc."
    assert "trạng thái &#39;locked&#39;" in client.get("/staff/login", params={"why": locked}).text
    assert client.get("/staff/login").headers["cache-control"] == "no-store"
