"""Exact tile invalidation: an edit drops the tiles of its old and new place, and no other."""

import math
import time

import mapbox_vector_tile
import psycopg2
import pytest

from layers.registry import get_layer
from tiles.cache import MemoryTileCache, RedisTileCache
from tiles.mvt import BUFFER, EXTENT, Tile, layer_version, render_tile

Z = 14


def tile_of(lon, lat, z=Z):
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def names(response, layer="schools"):
    if response.status_code == 204:
        return []
    decoded = mapbox_vector_tile.decode(response.content)
    return [f["properties"].get("name") for f in decoded[layer]["features"]]


def heard(app, layer, version, timeout=30.0):
    """Wait until the application's listener has heard ``version`` of ``layer`` (edits reach a
    worker with their notice, a moment after the commit)."""
    versions = app.state.layer_versions
    deadline = time.monotonic() + timeout
    while (versions.version(layer) or 0) < version:
        assert time.monotonic() < deadline, f"{layer} {version} never heard"
        time.sleep(0.02)


@pytest.fixture
def three_schools(database_url):
    """Three schools in three different z14 tiles, far apart: moved, kept, destination; put back
    exactly as they were afterwards (geometry, name and ``updated_at``)."""
    picked = _pick_schools(database_url)
    ids = [row[0] for row in picked]
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT id, geom, name, updated_at FROM schools WHERE id = ANY(%s)", (ids,))
        saved = cur.fetchall()
    yield picked
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        for fid, geom, name, updated_at in saved:
            cur.execute("UPDATE schools SET geom = %s, name = %s, updated_at = %s WHERE id = %s "
                        "AND (geom, name, updated_at) IS DISTINCT FROM (%s::geometry, %s, %s)",
                        (geom, name, updated_at, fid, geom, name, updated_at))


def _pick_schools(database_url):
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT id, name, ST_X(geom), ST_Y(geom) FROM schools ORDER BY id")
        rows = cur.fetchall()
    picked, tiles = [], set()
    for row in rows:
        t = tile_of(row[2], row[3])
        near = any(abs(t[0] - o[0]) <= 1 and abs(t[1] - o[1]) <= 1 for o in tiles)
        if not near:
            picked.append((*row, t))
            tiles.add(t)
        if len(picked) == 3:
            return picked
    pytest.skip("not enough schools apart")


def test_an_edit_drops_its_old_and_new_tiles_and_keeps_the_others(client, app, database_url, three_schools):
    moved, kept, dest = three_schools
    cache = app.state.tile_cache
    url = "/tiles/schools/{}/{}/{}.mvt"
    old_url, kept_url, dest_url = (url.format(Z, *s[4]) for s in (moved, kept, dest))
    first = client.get(old_url)
    assert moved[1] in names(first)
    assert first.headers["cache-control"] == "public, no-cache"  # browsers revalidate: 304 or new
    kept_before = client.get(kept_url)
    client.get(dest_url)
    kept_tile = cache.get(("schools", Z, *kept[4]))
    assert kept_tile is not None and ("schools", Z, *moved[4]) in cache

    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("UPDATE schools SET geom = ST_SetSRID(ST_MakePoint(%s, %s), 4326) WHERE id = %s",
                    (dest[2] + 0.0001, dest[3], moved[0]))
        version = layer_version(cur, "schools")
    heard(app, "schools", version)
    try:
        # Any request of the layer applies the change: the kept tile is the very same object.
        kept_after = client.get(kept_url)
        assert cache.get(("schools", Z, *kept[4])) is kept_tile
        assert kept_after.headers["etag"] == kept_before.headers["etag"]
        assert ("schools", Z, *moved[4]) not in cache
        assert ("schools", Z, *dest[4]) not in cache
        # Old place: the school is gone; the old ETag no longer matches.
        again = client.get(old_url, headers={"if-none-match": first.headers["etag"]})
        assert again.status_code in (200, 204)
        assert moved[1] not in names(again)
        assert moved[1] in names(client.get(dest_url))
    finally:
        with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
            cur.execute("UPDATE schools SET geom = ST_SetSRID(ST_MakePoint(%s, %s), 4326) WHERE id = %s",
                        (moved[2], moved[3], moved[0]))
            version = layer_version(cur, "schools")
    heard(app, "schools", version)
    assert moved[1] in names(client.get(old_url))  # moved back: drawn at its place again


def test_triggers_record_old_and_new_boxes(database_url, three_schools):
    moved, _, dest = three_schools
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("UPDATE schools SET geom = ST_SetSRID(ST_MakePoint(%s, %s), 4326) WHERE id = %s",
                    (dest[2], dest[3], moved[0]))
        cur.execute("SELECT version FROM feature_counts WHERE layer = 'schools'")
        version = cur.fetchone()[0]
        cur.execute("SELECT minx, miny FROM tile_changes WHERE layer = 'schools' AND version = %s "
                    "ORDER BY id", (version,))
        boxes = cur.fetchall()
        conn.rollback()
    # box2d holds single-precision bounds that enclose the point
    expected = sorted([(moved[2], moved[3]), (dest[2], dest[3])])
    assert len(boxes) == 2
    for got, want in zip(sorted(boxes), expected, strict=True):
        assert got == pytest.approx(want, abs=1e-4)


def test_a_rolled_back_edit_drops_nothing(database_url, three_schools):
    moved, kept, _ = three_schools
    cache = MemoryTileCache(margin=BUFFER / EXTENT)
    layer = get_layer("schools")
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        version = layer_version(cur, "schools")
        cache.sync(cur, "schools", version)
        key = ("schools", Z, *moved[4])
        cache.put(key, render_tile(cur, layer, Tile(*key[1:])), version)
        conn.commit()
        cur.execute("DELETE FROM schools WHERE id = %s", (moved[0],))
        conn.rollback()
        cache.sync(cur, "schools", layer_version(cur, "schools"))
        assert key in cache


@pytest.fixture
def redis_url():
    redis = pytest.importorskip("redis")
    url = "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    return url


def test_redis_cache_drops_exactly_the_touched_tiles(database_url, three_schools, redis_url):
    moved, kept, dest = three_schools
    cache = RedisTileCache(redis_url, scope=database_url + "#redis-test", margin=BUFFER / EXTENT)
    layer = get_layer("schools")
    keys = [("schools", Z, *s[4]) for s in (moved, kept, dest)]
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cache.drop_layer("schools")
        version = layer_version(cur, "schools")
        cache.sync(cur, "schools", version)
        for key in keys:
            cache.put(key, render_tile(cur, layer, Tile(*key[1:])), version)
        assert all(key in cache for key in keys)
        kept_data = cache.get(keys[1]).data
        cur.execute("UPDATE schools SET name = name || ' (sửa)' WHERE id = %s", (moved[0],))
        conn.commit()
        try:
            cache.sync(cur, "schools", layer_version(cur, "schools"))
            assert keys[0] not in cache
            assert cache.get(keys[1]).data == kept_data and keys[2] in cache
        finally:
            cur.execute("UPDATE schools SET name = %s WHERE id = %s", (moved[1], moved[0]))
            conn.commit()
            cache.drop_layer("schools")


def test_a_database_restored_under_the_cache_drops_the_layer(database_url, three_schools):
    moved, _, _ = three_schools
    cache = MemoryTileCache(margin=BUFFER / EXTENT)
    layer = get_layer("schools")
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        version = layer_version(cur, "schools")
        cache.sync(cur, "schools", version + 1000)  # what the cache saw before the restore
        key = ("schools", Z, *moved[4])
        cache.put(key, render_tile(cur, layer, Tile(*key[1:])), version + 1000)
        assert key in cache
        cache.sync(cur, "schools", version)  # the version went back: nothing can be trusted
        assert key not in cache
        cache.put(key, render_tile(cur, layer, Tile(*key[1:])), version)
        cache.sync(cur, "schools", version)
        assert key in cache  # and the cache works again from there
