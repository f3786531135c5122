"""Keys and sessions kept per worker, exact by PostgreSQL notices: a revoke, lock, password
change or ended session refuses the very next request, on every worker, also when a notice was
lost (the cache is bypassed while the listener is down and emptied when it reconnects); a caller
known to the worker costs no database trip."""

from __future__ import annotations

import itertools
import math

import httpx
import psycopg2
import pytest
from sqlalchemy import event

from gis_core.db import engine_for
from governance import accounts
from governance.credential_cache import CredentialCache
from tests.api.test_tile_notify import until
from tests.auth.conftest import PASSWORD
from tests.conftest import serving

_names = itertools.count()
LON, LAT, Z = 103.45, 22.40, 12  # a tile of Lai Châu


def _tile_url(layer: str = "communes") -> str:
    n = 2**Z
    x = int((LON + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(LAT))) / math.pi) / 2 * n)
    return f"/tiles/{layer}/{Z}/{x}/{y}.mvt"


def _account(database_url: str, role: str = "viewer") -> str:
    """A new person's account of ``role`` (its name)."""
    name = f"cache{next(_names)}-{role[:4]}"
    with engine_for(database_url).begin() as conn:
        accounts.create_account(conn, username=name, role=role, password=PASSWORD)
    return name


def _api_client(database_url: str) -> tuple[str, str]:
    name = f"cachekey{next(_names)}"
    with engine_for(database_url).begin() as conn:
        _, key = accounts.create_api_client(conn, username=name, scopes=())
    return name, key


def _set_status(database_url: str, name: str, status: str) -> None:
    with engine_for(database_url).begin() as conn:
        accounts.set_status(conn, name, status)


def _sign_in(http, name: str) -> dict[str, str]:
    response = http.post("/api/v1/auth/token", json={"username": name, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
def credentials(client, app) -> CredentialCache:
    cache = app.state.authenticator.credentials
    until(lambda: cache.live, "the credential listener is connected")
    return cache


@pytest.fixture
def checkouts(app):
    """How many database connections the application takes from its pool."""
    taken: list[int] = []

    def count(*_):
        taken.append(1)

    event.listen(app.state.engine, "checkout", count)
    yield taken
    event.remove(app.state.engine, "checkout", count)


def test_a_known_caller_and_an_anonymous_one_get_a_cached_tile_without_the_database(
        client, credentials, checkouts, database_url, app):
    name, key = _api_client(database_url)
    versions = app.state.layer_versions
    until(lambda: versions.version("communes") is not None, "the tile listener has caught up")
    url = _tile_url()
    first = client.get(url, headers={"X-API-Key": key})
    assert first.status_code == 200
    until(lambda: credentials.get(("key", accounts.api_key_digest(key))) is not None,
          "the key is kept")
    checkouts.clear()
    for headers in ({"X-API-Key": key}, {}, {"Authorization": f"Bearer {key}"}):
        again = client.get(url, headers=headers)
        assert again.status_code == 200 and again.content == first.content
    assert checkouts == []


def test_a_revoked_key_a_locked_account_and_an_ended_session_are_refused_at_once_by_every_worker(
        database_url, tmp_path):
    operator = _account(database_url, "operator")
    viewer = _account(database_url)
    client_name, key = _api_client(database_url)
    with serving(database_url, tmp_path / "var", workers=2) as url, \
            httpx.Client(base_url=url, timeout=30) as http:
        admin = _sign_in(http, operator)
        token, other = _sign_in(http, viewer), _sign_in(http, viewer)

        def statuses(headers: dict[str, str]) -> set[int]:
            # Fresh connections, so both workers answer (and keep the caller).
            return {httpx.get(f"{url}/api/v1/auth/me", headers=headers).status_code
                    for _ in range(8)}

        assert statuses({"X-API-Key": key}) == {200}
        assert statuses(token) == statuses(other) == {200}

        # End one session of the two: that token is out, the other stays.
        handles = http.get("/api/v1/auth/sessions", headers=token).json()
        mine = next(s for s in handles if s.get("current"))
        assert http.delete(f"/api/v1/auth/sessions/{mine['handle']}",
                           headers=other).status_code == 204
        assert statuses(token) == {401}
        assert statuses(other) == {200}

        # Revoke the key.
        assert http.post(f"/api/v1/admin/users/{client_name}/revoke",
                         headers=admin).status_code == 200
        assert statuses({"X-API-Key": key}) == {401}

        # Lock the person: the open session is refused; unlocked, it signs in again.
        assert http.post(f"/api/v1/admin/users/{viewer}/lock", headers=admin).status_code == 200
        assert statuses(other) == {401}
        assert http.post(f"/api/v1/admin/users/{viewer}/unlock", headers=admin).status_code == 200
        assert statuses(other) == {401}  # its sessions ended with the lock
        again = _sign_in(http, viewer)
        assert statuses(again) == {200}

        # A new password ends every session.
        assert http.post(f"/api/v1/admin/users/{viewer}/password", headers=admin,
                         json={"password": PASSWORD + "-2"}).status_code == 200
        assert statuses(again) == {401}


def _gone(database_url: str, pid: int) -> bool:
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (pid,))
        return cur.fetchone()[0] == 0


def test_a_lock_made_while_the_listener_is_cut_off_is_never_let_through(
        client, credentials, database_url):
    viewer = _account(database_url)
    token = _sign_in(client, viewer)
    session_keys = len(credentials)
    assert client.get("/api/v1/auth/me", headers=token).status_code == 200
    assert len(credentials) == session_keys + 1  # kept
    connects, pid = credentials.connects, credentials.backend_pid()
    credentials.retry_s = 5  # reconnect after the lock below, so its notice is surely lost
    try:
        with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(%s)", (pid,))
        until(lambda: _gone(database_url, pid), "the listener's server process is gone")
        _set_status(database_url, viewer, "locked")  # its notice goes nowhere
        assert client.get("/api/v1/auth/me", headers=token).status_code == 401  # at once
    finally:
        credentials.retry_s = 0.5
    until(lambda: credentials.connects > connects and credentials.live, "the listener reconnects")
    assert credentials.backend_pid() != pid
    assert len(credentials) == 0  # what was kept was dropped on reconnecting
    assert client.get("/api/v1/auth/me", headers=token).status_code == 401


def test_a_row_read_before_a_notice_was_applied_is_not_kept(database_url):
    """A resolution racing a revoke: read before the notice, offered after it, never stored."""
    cache = CredentialCache(database_url)
    cache.start()
    try:
        until(lambda: cache.live, "connected")
        name, key = _api_client(database_url)
        until(lambda: cache.generation() is not None, "the creation's notices are read")
        generation = cache.generation()
        with engine_for(database_url).connect() as conn:
            row = accounts.api_key_row(conn, key)
        _set_status(database_url, name, "revoked")
        until(lambda: cache.generation() not in (None, generation), "the revoke is heard")
        cache.put(("key", "k"), row["account_id"], row, generation)
        assert cache.get(("key", "k")) is None
        # Kept when nothing happened in between; dropped by the account's next change.
        generation = cache.generation()
        cache.put(("key", "k"), row["account_id"], row, generation)
        assert cache.get(("key", "k")) is row
        _set_status(database_url, name, "revoked")
        until(lambda: cache.get(("key", "k")) is None, "the notice drops the entry")
    finally:
        cache.stop()


def test_entries_are_bounded(database_url):
    cache = CredentialCache(database_url, size=3)
    cache.start()
    try:
        until(lambda: cache.generation() is not None, "connected")
        generation = cache.generation()
        for i in range(5):
            cache.put(("session", str(i)), i, {"account_id": i}, generation)
        assert len(cache) == 3 and cache.get(("session", "0")) is None
        assert cache.get(("session", "4")) is not None
    finally:
        cache.stop()
