"""Cached tiles without a database trip: versions pushed by PostgreSQL notices, and exact after a
lost connection (the listener re-reads every version when it reconnects)."""

import time

import psycopg2
import pytest
from sqlalchemy import event

from tests.api import test_tile_invalidation as invalidation
from tests.api.test_tile_invalidation import Z, names
from tiles.versions import LayerVersions

three_schools = invalidation.three_schools

URL = "/tiles/schools/{}/{}/{}.mvt"


def until(condition, what, timeout=30.0):
    """Wait for ``condition`` (a barrier on another thread, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"never happened: {what}")
        time.sleep(0.02)


def edit(database_url, sql, params):
    """Run one committed statement; the layer's new version."""
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute(sql, params)
        cur.execute("SELECT version FROM feature_counts WHERE layer = 'schools'")
        return cur.fetchone()[0]


def move(database_url, school, lon, lat):
    return edit(database_url, "UPDATE schools SET geom = ST_SetSRID(ST_MakePoint(%s, %s), 4326) "
                "WHERE id = %s", (lon, lat, school[0]))


@pytest.fixture
def versions(client, app):
    versions = app.state.layer_versions
    until(lambda: versions.live, "the listener is connected")
    return versions


@pytest.fixture
def checkouts(app):
    """How many database connections the application takes from its pool."""
    taken = []

    def count(*_):
        taken.append(1)

    event.listen(app.state.engine, "checkout", count)
    yield taken
    event.remove(app.state.engine, "checkout", count)


def test_a_cached_tile_is_served_without_asking_the_database(client, versions, checkouts,
                                                               three_schools, database_url):
    # From versions just read: earlier tests of the session may have reloaded the samples.
    connects = versions.connects
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT pg_terminate_backend(%s)", (versions.backend_pid(),))
    until(lambda: versions.connects > connects and versions.live, "the listener reconnected")
    url = URL.format(Z, *three_schools[0][4])
    first = client.get(url)
    assert three_schools[0][1] in names(first)
    _settled(versions, "schools")  # the setup's own edits heard: the cache is at the version
    checkouts.clear()
    for _ in range(5):
        again = client.get(url)
        assert again.content == first.content
    assert checkouts == []


def test_an_edit_is_served_once_its_notice_is_heard(client, versions, database_url, three_schools):
    moved, _, dest = three_schools
    old_url, dest_url = URL.format(Z, *moved[4]), URL.format(Z, *dest[4])
    assert moved[1] in names(client.get(old_url))
    assert moved[1] not in names(client.get(dest_url))
    version = move(database_url, moved, dest[2] + 0.0001, dest[3])
    until(lambda: (versions.version("schools") or 0) >= version, "the notice is heard")
    assert moved[1] not in names(client.get(old_url))
    assert moved[1] in names(client.get(dest_url))
    assert moved[1] in names(client.get(dest_url))  # and kept, fresh, in the cache


def _settled(versions, layer: str) -> int:
    """The layer's version once the listener has read everything waiting for it."""
    until(lambda: versions.version(layer) is not None, "the listener has caught up")
    return versions.version(layer)


def test_a_rolled_back_edit_sends_no_notice(database_url, versions):
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT version FROM feature_counts WHERE layer = 'schools'")
        before = cur.fetchone()[0]
        cur.execute("LISTEN ioc_tiles")
        conn.commit()
        with psycopg2.connect(database_url) as other, other.cursor() as cur2:
            cur2.execute("UPDATE schools SET name = name WHERE id = (SELECT min(id) FROM schools)")
            other.rollback()
            cur2.execute("SELECT 1")
        cur.execute("SELECT version FROM feature_counts WHERE layer = 'schools'")
        assert cur.fetchone()[0] == before
        # Other layers' notices (background steps of the app) may arrive; none for schools.
        assert [n.payload for n in conn.notifies if n.payload.startswith("schools:")] == []
    until(lambda: versions.version("schools") == before, "the listener holds the unchanged version",
          timeout=90)


def _gone(database_url, pid):
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (pid,))
        return cur.fetchone()[0] == 0


def test_an_edit_made_while_the_listener_is_cut_off_is_never_served_stale(
        client, versions, database_url, three_schools):
    moved, kept, dest = three_schools
    old_url, dest_url = URL.format(Z, *moved[4]), URL.format(Z, *dest[4])
    assert moved[1] in names(client.get(old_url))
    client.get(dest_url)
    connects = versions.connects
    pid = versions.backend_pid()
    versions.retry_s = 5  # reconnect after the edit below, so its notice is surely lost
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT pg_terminate_backend(%s)", (pid,))
    until(lambda: _gone(database_url, pid), "the listener's server process is gone")
    # Its notice goes nowhere: nobody listens until the listener reconnects.
    move(database_url, moved, dest[2] + 0.0001, dest[3])
    assert moved[1] not in names(client.get(old_url))  # at once: the database is asked
    assert moved[1] in names(client.get(dest_url))
    versions.retry_s = 0.5
    until(lambda: versions.connects > connects and versions.live, "the listener reconnects")
    assert versions.backend_pid() != pid
    assert moved[1] not in names(client.get(old_url))  # after the re-read of every version
    assert moved[1] in names(client.get(dest_url))
    # And the new connection hears the next edit.
    version = move(database_url, moved, moved[2], moved[3])
    until(lambda: (versions.version("schools") or 0) >= version, "the notice is heard")
    assert moved[1] in names(client.get(old_url))
    assert moved[1] not in names(client.get(dest_url))


def test_the_periodic_check_catches_up_without_a_notice(database_url):
    versions = LayerVersions(database_url, check_s=0.2)
    versions.start()
    try:
        until(lambda: versions.live, "connected")
        with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
            cur.execute("SELECT version FROM feature_counts WHERE layer = 'schools'")
            current = cur.fetchone()[0]
        with versions._lock:  # as if a notice had been lost
            versions._versions["schools"] = current - 1
        until(lambda: versions.version("schools") == current, "the check re-reads the versions")
    finally:
        versions.stop()


def test_a_notice_or_a_lost_connection_not_yet_read_is_never_answered_over(database_url):
    """Without the thread to read them, a waiting notice or a closed connection make ``version``
    answer None (ask the database) instead of the version read before."""
    versions = LayerVersions(database_url)
    conn = versions.connect()  # connected, read, but nobody reads its socket
    try:
        with psycopg2.connect(database_url) as other, other.cursor() as cur:
            cur.execute("SELECT version FROM feature_counts WHERE layer = 'schools'")
            assert versions.version("schools") == cur.fetchone()[0]
            cur.execute("UPDATE schools SET name = name WHERE id = (SELECT min(id) FROM schools)")
        until(lambda: versions.version("schools") is None, "the waiting notice is seen")
        conn.poll()
        versions._apply(conn.notifies)
        conn.notifies.clear()
        assert versions.version("schools") is not None
        with psycopg2.connect(database_url) as other, other.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(%s)", (conn.get_backend_pid(),))
        until(lambda: versions.version("schools") is None, "the closed connection is seen")
    finally:
        conn.close()
