"""Sign-in answers do not tell whether a name exists or is locked: same words, same work."""

from __future__ import annotations

import uuid

import pytest
from argon2 import PasswordHasher

from tests.auth.conftest import PASSWORD, audit_rows

WRONG = "not-the-password-1"


class CountingHasher(PasswordHasher):
    """The real argon2id hasher, counting its verifications (the work that takes the time)."""

    calls = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:  # noqa: A002
        CountingHasher.calls += 1
        return super().verify(hash, password)


@pytest.fixture()
def verifications(monkeypatch):
    from gis_core import passwords

    monkeypatch.setattr(passwords, "_HASHER", CountingHasher())
    CountingHasher.calls = 0

    def counted(attempt) -> tuple[int, int]:
        before = CountingHasher.calls
        response = attempt()
        return response, CountingHasher.calls - before

    return counted


@pytest.fixture()
def locked(app, database_url):
    """A fresh account (locked by the tests that need it)."""
    from gis_core.db import engine_for
    from governance import accounts

    name = f"khoa-{uuid.uuid4().hex[:8]}"
    with engine_for(database_url).begin() as conn:
        accounts.create_account(conn, username=name, role="viewer", password=PASSWORD)
    return name


def _sign_in(client, username, password):
    return client.post("/api/v1/auth/token", json={"username": username, "password": password})


def _answer(response) -> tuple:
    body = response.json()
    return response.status_code, body["title"], body["code"], body["detail"], body["detail_en"]


def test_locked_and_unknown_accounts_answer_alike(client, app, database_url, locked,
                                                  verifications):
    limit = app.state.authenticator.rules.max_failed_logins
    for _ in range(limit):
        _sign_in(client, locked, WRONG)  # the lockout starts
    unknown, unknown_work = verifications(lambda: _sign_in(client, "khong-ai-ca", WRONG))
    wrong, wrong_work = verifications(lambda: _sign_in(client, locked, WRONG))
    right, right_work = verifications(lambda: _sign_in(client, locked, PASSWORD))
    malformed, malformed_work = verifications(lambda: _sign_in(client, "Ai Đó", WRONG))
    assert _answer(unknown) == _answer(wrong) == _answer(right) == _answer(malformed)
    assert unknown.status_code == 401
    assert "locked for" in unknown.json()["detail_en"]  # the rule, told to everyone alike
    # Each attempt costs one argon2id verification, whether the name exists, is locked or not.
    assert unknown_work == wrong_work == right_work == malformed_work == 1
    outcomes = [r[4] for r in audit_rows(database_url, 0, "login") if r[1] == locked]
    assert outcomes[-2:] == ["locked-out", "locked-out"]


def test_the_right_password_after_the_lockout_signs_in(client, app, database_url, locked):
    from gis_core.db import engine_for

    limit = app.state.authenticator.rules.max_failed_logins
    for _ in range(limit):
        _sign_in(client, locked, WRONG)
    with engine_for(database_url).begin() as conn:
        conn.exec_driver_sql("UPDATE accounts SET locked_until = now() - interval '1 second' "
                             "WHERE username = %s", (locked,))
    assert _sign_in(client, locked, PASSWORD).status_code == 200


def test_an_account_locked_by_an_operator_is_told_so_only_with_the_right_password(
        client, app, database_url, locked, verifications):
    from gis_core.db import engine_for
    from governance import accounts

    with engine_for(database_url).begin() as conn:
        accounts.set_status(conn, locked, "locked")
    wrong, _ = verifications(lambda: _sign_in(client, locked, WRONG))
    unknown, _ = verifications(lambda: _sign_in(client, "khong-ai-ca", WRONG))
    right, work = verifications(lambda: _sign_in(client, locked, PASSWORD))
    assert _answer(wrong) == _answer(unknown)
    assert right.status_code == 401 and "locked" in right.json()["detail_en"]
    assert _answer(right) != _answer(unknown) and work == 1
