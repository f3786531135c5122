"""The account endpoints the workspace needs: change one's password, an operator's reset, one's
sessions listed and ended, the audit log's filters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.auth.conftest import audit_head, audit_rows, bearer
from tests.staff.conftest import PASSWORD, make_account

NEW = "Muong-Te-2027-moi"


def _token(client, username, password=PASSWORD):
    response = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    return response.json().get("access_token") if response.status_code == 200 else None


def test_changing_ones_password_checks_the_current_one_and_ends_every_session(
        client, database_url):
    make_account(database_url, "pw-change", "viewer")
    first, second = _token(client, "pw-change"), _token(client, "pw-change")
    head = audit_head(database_url)
    wrong = client.post("/api/v1/auth/password", headers=bearer(first),
                        json={"current_password": "not-it-123456", "new_password": NEW})
    assert wrong.status_code == 422 and wrong.json()["parameter"] == "current_password"
    weak = client.post("/api/v1/auth/password", headers=bearer(first),
                       json={"current_password": PASSWORD, "new_password": "short"})
    assert weak.status_code == 422 and "12" in weak.json()["detail"]
    assert _token(client, "pw-change") is not None  # still the old password
    done = client.post("/api/v1/auth/password", headers=bearer(first),
                       json={"current_password": PASSWORD, "new_password": NEW})
    assert done.status_code == 204
    for token in (first, second):
        assert client.get("/api/v1/auth/me", headers=bearer(token)).status_code == 401
    assert _token(client, "pw-change") is None and _token(client, "pw-change", NEW) is not None
    outcomes = [r[4] for r in audit_rows(database_url, head, "account.password")]
    assert outcomes == ["refused", "refused", "ok"]


def test_an_operator_resets_a_password_and_others_may_not(client, tokens, database_url):
    make_account(database_url, "pw-reset", "viewer")
    user = _token(client, "pw-reset")
    denied = client.post("/api/v1/admin/users/pw-reset/password", headers=bearer(tokens["leader1"]))
    assert denied.status_code == 403
    reset = client.post("/api/v1/admin/users/pw-reset/password", headers=bearer(tokens["op1"]))
    assert reset.status_code == 200
    generated = reset.json()["password"]
    assert len(generated) >= 12
    assert client.get("/api/v1/auth/me", headers=bearer(user)).status_code == 401
    assert _token(client, "pw-reset", generated) is not None
    chosen = client.post("/api/v1/admin/users/pw-reset/password", headers=bearer(tokens["op1"]),
                         json={"password": NEW})
    assert chosen.status_code == 200 and chosen.json()["password"] is None
    assert _token(client, "pw-reset", NEW) is not None
    assert client.post("/api/v1/admin/users/nobody-here/password",
                       headers=bearer(tokens["op1"])).status_code == 404


def test_one_sees_and_ends_ones_own_sessions_only(client, database_url):
    make_account(database_url, "sess-a", "viewer")
    make_account(database_url, "sess-b", "viewer")
    here, phone = _token(client, "sess-a"), _token(client, "sess-a")
    other = _token(client, "sess-b")
    listed = client.get("/api/v1/auth/sessions", headers=bearer(here)).json()
    assert len(listed) == 2 and sum(s["current"] for s in listed) == 1
    assert all(len(s["handle"]) == 8 and "id" not in s for s in listed)
    theirs = client.get("/api/v1/auth/sessions", headers=bearer(other)).json()[0]["handle"]
    assert client.delete(f"/api/v1/auth/sessions/{theirs}",
                         headers=bearer(here)).status_code == 404
    assert client.get("/api/v1/auth/me", headers=bearer(other)).status_code == 200
    lost = next(s["handle"] for s in listed if not s["current"])
    assert client.delete(f"/api/v1/auth/sessions/{lost}", headers=bearer(here)).status_code == 204
    assert client.get("/api/v1/auth/me", headers=bearer(phone)).status_code == 401
    assert client.get("/api/v1/auth/me", headers=bearer(here)).status_code == 200
    assert len(client.get("/api/v1/auth/sessions", headers=bearer(here)).json()) == 1


def test_the_audit_log_filters_by_action_prefix_target_outcome_and_time(client, tokens,
                                                                         database_url):
    make_account(database_url, "audit-x", "viewer")
    op = bearer(tokens["op1"])
    client.post("/api/v1/admin/users/audit-x/lock", headers=op)
    client.post("/api/v1/admin/users/audit-x/unlock", headers=op)
    client.post("/api/v1/auth/token", json={"username": "audit-x", "password": "wrong-123456789"})

    def log(**params):
        response = client.get("/api/v1/admin/audit", headers=op, params=params)
        assert response.status_code == 200, response.text
        return response.json()

    accounts_ = log(action="account.*", target="audit-x")
    assert {e["action"] for e in accounts_} == {"account.create", "account.lock", "account.unlock"}
    assert [e["actor"] for e in accounts_ if e["action"] != "account.create"] == ["op1", "op1"]
    refused = log(actor="audit-x", outcome="wrong-password")
    assert len(refused) == 1 and refused[0]["action"] == "login"
    now = datetime.now(UTC)
    assert log(target="audit-x", **{"from": (now + timedelta(hours=1)).isoformat()}) == []
    assert len(log(target="audit-x", **{"from": (now - timedelta(hours=1)).isoformat(),
                                        "to": (now + timedelta(hours=1)).isoformat()})) >= 3
    assert log(target="audit-x%") == []  # a wildcard is a literal character
    assert client.get("/api/v1/admin/audit", headers=op,
                      params={"from": "yesterday"}).status_code == 422
    assert client.get("/api/v1/admin/audit", headers=bearer(tokens["leader1"])).status_code == 403
