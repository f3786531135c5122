"""Accounts of every role, created once per session through the real code and signed in over HTTP."""

from __future__ import annotations

import psycopg2
import pytest

from tests.conftest import SCALE

PASSWORD = "Lai-Chau-2026-safe"


@pytest.fixture(scope="package", autouse=True)
def restore_samples(database_url):
    """Put the layer tables back as loaded once these tests' edits are done.

    Other tests compare the session database with a fresh load of the samples; accounts, audit
    and pending edits live in tables of their own and stay.
    """
    yield
    from api.cli import load_samples

    load_samples(database_url, SCALE)


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
    from governance import accounts

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
