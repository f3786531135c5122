"""Accounts for the staff workspace's tests: the authorization tests' people, and helpers to open
a browser-style (cookie) session over HTTP."""

from __future__ import annotations

import psycopg2
import pytest

from tests.auth.conftest import PASSWORD, communes, people, restore_samples, tokens  # noqa: F401


def make_account(database_url: str, username: str, role: str, department: str | None = None,
                 commune: str | None = None) -> str:
    """A fresh account of its own (tests that lock or re-password it disturb nobody)."""
    from gis_core.db import engine_for
    from governance import accounts

    with engine_for(database_url).begin() as conn:
        if username not in {a["username"] for a in accounts.list_accounts(conn)}:
            accounts.create_account(conn, username=username, role=role, password=PASSWORD,
                                    department=department, commune_code=commune)
    return username


def sql(database_url: str, query: str, *params: object) -> list[tuple]:
    """Rows of a query on the test database."""
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute(query, params)
        return cur.fetchall() if cur.description else []


@pytest.fixture
def browser_session(app):
    """``open(username, password) -> (client, csrf)``: a cookie session of its own per call."""
    from fastapi.testclient import TestClient

    opened = []

    def open_(username: str, password: str = PASSWORD):
        client = TestClient(app)
        response = client.post("/api/v1/auth/session",
                               json={"username": username, "password": password})
        assert response.status_code == 200, response.text
        opened.append(client)
        return client, response.json()["csrf"]

    yield open_
    for client in opened:
        client.close()
