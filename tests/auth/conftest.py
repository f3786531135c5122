"""Accounts of every role, created once per session through the real code and signed in over HTTP.

These tests write (accounts, edits, houses), so they run on a database of their own, with their
own application, rather than disturbing the session database other tests compare against.
"""

from __future__ import annotations

import threading
import time

import psycopg2
import pytest

from tests.conftest import SCALE, _free_port, _fresh_database

PASSWORD = "Lai-Chau-2026-safe"


@pytest.fixture(scope="session")
def database_url():
    """A fresh database for the writing tests, migrated and loaded with the samples."""
    for url in _fresh_database("ioc_auth"):
        from api.cli import load_samples, migrate

        migrate(url)
        load_samples(url, SCALE)
        yield url


@pytest.fixture(scope="session")
def settings(database_url, tmp_path_factory):
    """Settings on that database, with a private runtime folder."""
    from gis_core.settings import Settings

    return Settings(database_url=database_url, var_dir=tmp_path_factory.mktemp("var-auth"),
                    port=_free_port())


@pytest.fixture(scope="session")
def app(settings):
    """The application on that database."""
    from api.app import create_app

    return create_app(settings)


@pytest.fixture(scope="session")
def client(app):
    """An in-process HTTP client."""
    from fastapi.testclient import TestClient

    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def live_url(app, settings):
    """The application served by uvicorn on a loopback port (for the browser)."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=settings.port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield settings.base_url
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def communes(database_url):
    """Two commune codes: the one the commune accounts belong to, and another."""
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT code FROM communes c WHERE EXISTS (SELECT 1 FROM housing h "
                    "WHERE h.commune_code = c.code) ORDER BY code LIMIT 2")
        home, other = (r[0] for r in cur.fetchall())
    return home, other


@pytest.fixture(scope="session")
def people(database_url, communes):
    """username -> (role, department, commune) for one account per role."""
    from gis_core.db import engine_for
    from layers import accounts

    home, _ = communes
    wanted = {
        "op1": ("operator", None, None),
        "leader1": ("leader", "so_xay_dung", None),
        "deped1": ("department_editor", "so_xay_dung", None),
        "deped2": ("department_editor", "so_xay_dung", None),
        "healthed": ("department_editor", "so_y_te", None),
        "communeed": ("commune_editor", None, home),
        "field1": ("field_staff", None, home),
        "viewer1": ("viewer", None, None),
    }
    with engine_for(database_url).begin() as conn:
        existing = {a["username"] for a in accounts.list_accounts(conn)}
        for name, (role, dep, commune) in wanted.items():
            if name in existing:  # also imported by the browser tests' conftest
                continue
            accounts.create_account(conn, username=name, role=role, password=PASSWORD,
                                    department=dep, commune_code=commune)
    return wanted


@pytest.fixture(scope="session")
def tokens(client, people):
    """username -> bearer token."""
    out = {}
    for name in people:
        response = client.post("/api/v1/auth/token", json={"username": name, "password": PASSWORD})
        assert response.status_code == 200, response.text
        out[name] = response.json()["access_token"]
    return out


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "accept": "application/geo+json"}


def audit_rows(database_url, since: int, action: str | None = None):
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT seq, actor, action, target, outcome, details FROM audit_log "
                    "WHERE seq > %s AND (%s IS NULL OR action = %s) ORDER BY seq",
                    (since, action, action))
        return cur.fetchall()


def audit_head(database_url) -> int:
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT coalesce(max(seq), 0) FROM audit_log")
        return cur.fetchone()[0]
