"""Sign-in, tokens, lockout, lock/revoke with immediate effect, the admin API and the CLI."""

import time
from urllib.parse import quote

import psycopg2
import pytest

from tests.auth.conftest import PASSWORD, audit_head, audit_rows, bearer


def _login(client, name, password=PASSWORD):
    return client.post("/api/v1/auth/token", json={"username": name, "password": password})


def test_login_gives_a_token_that_names_the_account(client, tokens):
    me = client.get("/api/v1/auth/me", headers=bearer(tokens["viewer1"]))
    assert me.status_code == 200
    assert me.json()["username"] == "viewer1" and me.json()["role"] == "viewer"
    assert "password_hash" not in me.json()


def test_form_login_works_too(client, people):
    response = client.post("/api/v1/auth/token", data={"username": "viewer1", "password": PASSWORD})
    assert response.status_code == 200 and response.json()["token_type"] == "bearer"


def test_wrong_password_is_401_and_audited(client, people, database_url):
    since = audit_head(database_url)
    response = _login(client, "viewer1", "wrong-password-1")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"]
    rows = audit_rows(database_url, since, "login")
    assert [(r[1], r[4]) for r in rows] == [("viewer1", "wrong-password")]
    unknown = _login(client, "nobody-here", "whatever-123")
    assert unknown.status_code == 401
    assert unknown.json()["detail"] == response.json()["detail"]  # no hint which one was wrong


@pytest.mark.parametrize("token", [
    "garbage", "v1.abc.def", "Bearer", "v1." + "A" * 40 + "." + "B" * 43,
])
def test_forged_tokens_are_401(client, token, database_url):
    since = audit_head(database_url)
    response = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert audit_rows(database_url, since, "auth.refused")
    ogc = client.get("/ogc/collections/schools/items", headers={"Authorization": f"Bearer {token}"})
    assert ogc.status_code == 401


def test_tampered_and_expired_tokens_are_refused(client, tokens, app):
    from gis_core import tokens as signing

    good = tokens["viewer1"]
    payload, mac = good[3:].split(".")
    tampered = f"v1.{payload[:-2]}{'AA' if payload[-2:] != 'AA' else 'BB'}.{mac}"
    assert client.get("/api/v1/auth/me", headers=bearer(tampered)).status_code == 401
    secret = app.state.authenticator.secret
    session = signing.verify(secret, good)
    expired = signing.sign(secret, session, time.time() - 1)
    response = client.get("/api/v1/auth/me", headers=bearer(expired))
    assert response.status_code == 401 and "expired" in response.json()["detail_en"]
    other_key = signing.sign(b"x" * 32, session, time.time() + 600)
    assert client.get("/api/v1/auth/me", headers=bearer(other_key)).status_code == 401


def test_lockout_after_repeated_failures(client, app, database_url):
    from gis_core.db import engine_for
    from governance import accounts

    with engine_for(database_url).begin() as conn:
        accounts.create_account(conn, username="lockme", role="viewer", password=PASSWORD)
    limit = app.state.authenticator.rules.max_failed_logins
    for _ in range(limit):
        assert _login(client, "lockme", "not-the-password-1").status_code == 401
    refused = _login(client, "lockme")  # the right password, during the lockout
    assert refused.status_code == 401 and "locked" in refused.json()["detail_en"]
    outcomes = [r[4] for r in audit_rows(database_url, 0, "login") if r[1] == "lockme"]
    assert outcomes == ["wrong-password"] * limit + ["locked-out"]


def test_password_policy(client, tokens):
    for weak in ("short1", "onlyletterslong", "viewer2viewer2-12"):
        response = client.post("/api/v1/admin/users", headers=bearer(tokens["op1"]), json={
            "username": "viewer2", "role": "viewer", "password": weak})
        assert response.status_code == 422, weak
        assert response.json()["parameter"] == "password"


def test_lock_takes_effect_on_the_next_request_and_unlock_needs_a_new_sign_in(
        client, tokens, database_url):
    op = bearer(tokens["op1"])
    created = client.post("/api/v1/admin/users", headers=op, json={
        "username": "temp1", "role": "viewer", "password": PASSWORD})
    assert created.status_code == 201
    token = _login(client, "temp1").json()["access_token"]
    assert client.get("/api/v1/auth/me", headers=bearer(token)).status_code == 200
    since = audit_head(database_url)
    locked = client.post("/api/v1/admin/users/temp1/lock",
                         headers={**op, "X-Reason": quote("nghỉ việc")})
    assert locked.status_code == 200 and locked.json()["status"] == "locked"
    assert client.get("/api/v1/auth/me", headers=bearer(token)).status_code == 401
    assert client.get("/ogc/collections/schools/items", headers=bearer(token)).status_code == 401
    assert _login(client, "temp1").status_code == 401
    rows = audit_rows(database_url, since, "account.lock")
    assert rows[0][1] == "op1" and rows[0][3] == "temp1"
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT reason, client_ip FROM audit_log WHERE seq = %s", (rows[0][0],))
        assert cur.fetchone() == ("nghỉ việc", "testclient")
    assert client.post("/api/v1/admin/users/temp1/unlock", headers=op).status_code == 200
    assert client.get("/api/v1/auth/me", headers=bearer(token)).status_code == 401
    fresh = _login(client, "temp1").json()["access_token"]
    assert client.get("/api/v1/auth/me", headers=bearer(fresh)).status_code == 200
    assert client.post("/api/v1/admin/users/temp1/revoke", headers=op).status_code == 200
    assert client.get("/api/v1/auth/me", headers=bearer(fresh)).status_code == 401
    assert client.post("/api/v1/admin/users/temp1/unlock", headers=op).status_code == 409


def test_admin_api_is_for_operators_only(client, tokens, database_url):
    since = audit_head(database_url)
    for name in ("leader1", "deped1", "viewer1", "field1"):
        assert client.get("/api/v1/admin/users", headers=bearer(tokens[name])).status_code == 403
    assert client.get("/api/v1/admin/users").status_code == 401
    assert len(audit_rows(database_url, since, "admin.denied")) == 4
    listed = client.get("/api/v1/admin/users", headers=bearer(tokens["op1"])).json()
    assert {"op1", "viewer1"} <= {a["username"] for a in listed}


def test_grant_changes_rights_and_ends_sessions(client, tokens):
    op = bearer(tokens["op1"])
    client.post("/api/v1/admin/users", headers=op, json={
        "username": "grantme", "role": "viewer", "password": PASSWORD})
    token = _login(client, "grantme").json()["access_token"]
    bad = client.put("/api/v1/admin/users/grantme/role", headers=op,
                     json={"role": "department_editor"})
    assert bad.status_code == 422  # a department editor needs a department
    good = client.put("/api/v1/admin/users/grantme/role", headers=op,
                      json={"role": "department_editor", "department": "so_y_te"})
    assert good.status_code == 200 and good.json()["department"] == "so_y_te"
    assert client.get("/api/v1/auth/me", headers=bearer(token)).status_code == 401


def test_api_client_key(client, tokens):
    op = bearer(tokens["op1"])
    created = client.post("/api/v1/admin/users", headers=op, json={
        "username": "partner-system", "role": "api_client", "scopes": ["personal:housing"]})
    assert created.status_code == 201
    key = created.json()["api_key"]
    items = client.get("/ogc/collections/housing/items?limit=2",
                       headers={"X-API-Key": key, "accept": "application/geo+json"})
    assert items.status_code == 200
    assert "head_of_household" in items.json()["features"][0]["properties"]
    assert client.get("/ogc/collections/housing/items",
                      headers={"X-API-Key": key[:-3] + "xyz"}).status_code == 401
    client.post("/api/v1/admin/users/partner-system/revoke", headers=op)
    assert client.get("/ogc/collections/housing/items",
                      headers={"X-API-Key": key}).status_code == 401


def test_idle_accounts_expire(client, database_url):
    import psycopg2

    from gis_core.db import engine_for
    from governance import accounts

    with engine_for(database_url).begin() as conn:
        accounts.create_account(conn, username="sleeper", role="viewer", password=PASSWORD)
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("UPDATE accounts SET created_at = now() - interval '400 days' "
                    "WHERE username = 'sleeper'")
    response = _login(client, "sleeper")
    assert response.status_code == 401 and "expired" in response.json()["detail_en"]


def test_cli_creates_the_first_operator_and_lists(database_url, monkeypatch, capsys):
    import io

    from api.cli import main

    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    main(["users", "create-operator", "root-op", "--password-stdin"])
    main(["users", "lock", "root-op", "--reason", "kiểm thử"])
    main(["users", "list"])
    out = capsys.readouterr().out
    assert "root-op" in out and "locked" in out
    monkeypatch.setattr("sys.stdin", io.StringIO("weak\n"))
    with pytest.raises(SystemExit) as exit_:
        main(["users", "create", "weakling", "--role", "viewer", "--password-stdin"])
    assert exit_.value.code == 1
    assert "ioc: lỗi:" in capsys.readouterr().err


def test_cli_expires_idle_accounts(database_url, monkeypatch, capsys):
    from api.cli import main
    from gis_core.db import engine_for
    from governance import accounts

    with engine_for(database_url).begin() as conn:
        accounts.create_account(conn, username="dormant", role="viewer", password=PASSWORD)
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("UPDATE accounts SET created_at = now() - interval '200 days' "
                    "WHERE username = 'dormant'")
    since = audit_head(database_url)
    monkeypatch.setenv("DATABASE_URL", database_url)
    main(["users", "expire-idle"])
    assert "dormant" in capsys.readouterr().out
    assert [r[3] for r in audit_rows(database_url, since, "account.expire")] == ["dormant"]
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT status FROM accounts WHERE username = 'dormant'")
        assert cur.fetchone()[0] == "expired"
