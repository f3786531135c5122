"""Pages, counts and deep offsets against the database, compared with plain SQL."""

import psycopg2
import pytest

from layers.cql import parse_filter
from layers.features import ANCHOR_STEP, PageCache, fetch_items
from layers.items import ItemsQuery
from layers.registry import get_layer

HOUSING = get_layer("housing")


@pytest.fixture()
def cursor(database_url):
    conn = psycopg2.connect(database_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        yield cur
    conn.close()


def _ids(page):
    import json

    return [f["id"] for f in json.loads(f"[{page.features}]")]


@pytest.mark.parametrize("offset", [0, 7, ANCHOR_STEP - 1, ANCHOR_STEP, 3 * ANCHOR_STEP + 17])
def test_deep_offsets_match_plain_offset_paging(cursor, offset):
    cache = PageCache()
    query = ItemsQuery(limit=25, offset=offset)
    cursor.execute("SELECT id FROM housing ORDER BY id OFFSET %s LIMIT 25", (offset,))
    expected = [r[0] for r in cursor.fetchall()]
    assert _ids(fetch_items(cursor, HOUSING, query, cache=cache)) == expected
    assert _ids(fetch_items(cursor, HOUSING, query, cache=cache)) == expected  # from the anchor


def test_deep_offset_with_a_filter(cursor):
    cache = PageCache()
    query = ItemsQuery(limit=10, offset=ANCHOR_STEP + 5,
                       filter=parse_filter("poverty_status = 'poor'", None))
    cursor.execute("SELECT id FROM housing WHERE poverty_status = 'poor' ORDER BY id "
                   "OFFSET %s LIMIT 10", (ANCHOR_STEP + 5,))
    expected = [r[0] for r in cursor.fetchall()]
    assert len(expected) == 10
    assert _ids(fetch_items(cursor, HOUSING, query, cache=cache)) == expected


def test_offset_past_the_end_is_an_empty_page(cursor):
    page = fetch_items(cursor, HOUSING, ItemsQuery(limit=10, offset=10_000_000), cache=PageCache())
    assert page.returned == 0 and page.features == ""


def test_counts_are_exact_and_follow_every_change(database_url, cursor):
    cache = PageCache()
    poor = ItemsQuery(limit=1, filter=parse_filter("poverty_status = 'poor'", None))
    cursor.execute("SELECT count(*) FROM housing")
    total = cursor.fetchone()[0]
    cursor.execute("SELECT count(*) FROM housing WHERE poverty_status = 'poor'")
    poor_count = cursor.fetchone()[0]
    assert fetch_items(cursor, HOUSING, ItemsQuery(limit=1), cache=cache).matched == total
    assert fetch_items(cursor, HOUSING, poor, cache=cache).matched == poor_count
    cursor.execute("BEGIN")
    cursor.execute("UPDATE housing SET poverty_status = 'poor' WHERE id = "
                   "(SELECT min(id) FROM housing WHERE poverty_status = 'none')")
    cursor.execute("DELETE FROM housing WHERE id = (SELECT max(id) FROM housing)")
    try:
        assert fetch_items(cursor, HOUSING, ItemsQuery(limit=1), cache=cache).matched == total - 1
        changed = fetch_items(cursor, HOUSING, poor, cache=cache).matched
        cursor.execute("SELECT count(*) FROM housing WHERE poverty_status = 'poor'")
        assert changed == cursor.fetchone()[0]
    finally:
        cursor.execute("ROLLBACK")
    assert fetch_items(cursor, HOUSING, ItemsQuery(limit=1), cache=cache).matched == total
