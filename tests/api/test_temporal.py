"""Date-valued time fields compare as dates, whatever the database session's time zone.

All 38 communes took effect on 2025-07-01 (``valid_from``, the communes' time field). Asked for
that day in any form — a date, its first instant in UTC, an instant later that day — every path
(GeoJSON items, pygeoapi's HTML items, CQL2 text and JSON, the export) answers the 38, and the
collection's temporal extent is that day. Run with the session TimeZone at Asia/Ho_Chi_Minh and
at UTC: a date cast to a timestamp at the session's midnight would be 7 hours off in one of them.
"""

import json

import psycopg2
import pytest
from psycopg2 import sql

DAY_QUERIES = [
    "datetime=2025-07-01",
    "datetime=2025-07-01T00:00:00Z",
    "datetime=2025-07-01T20:00:00Z",
    "datetime=2025-07-01T23:30:00%2B07:00",  # 16:30 UTC, still the 1st
    "datetime=2025-06-01/2025-07-01",
    "datetime=2025-07-01/..",
    "datetime=../2025-07-01T00:00:00Z",
    "valid_from=2025-07-01",
    "filter=valid_from%20%3D%20DATE('2025-07-01')",
    "filter=valid_from%20%3E%3D%20TIMESTAMP('2025-07-01T16:00:00Z')",
    "filter=valid_from%20%3E%20TIMESTAMP('2025-06-30T20:00:00Z')",
    "filter-lang=cql2-json&filter=" + json.dumps(
        {"op": "t_after", "args": [{"property": "valid_from"},
                                   {"timestamp": "2025-06-30T20:00:00Z"}]}),
]
NOT_THE_DAY = [
    "datetime=2025-06-30T23:59:59Z",
    "datetime=2025-07-02",
    "datetime=../2025-06-30",
    "filter=valid_from%20%3C%20TIMESTAMP('2025-07-01T20:00:00Z')",
]


@pytest.fixture(params=["Asia/Ho_Chi_Minh", "UTC"])
def session_zone(request, database_url):
    """Every new database session of the app in the given TimeZone (pools emptied around)."""
    from gis_core import db

    name = database_url.rsplit("/", 1)[1]

    def set_zone(zone):
        with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
            conn.autocommit = True
            if zone is None:
                cur.execute(sql.SQL("ALTER DATABASE {} RESET timezone").format(sql.Identifier(name)))
            else:
                cur.execute(sql.SQL("ALTER DATABASE {} SET timezone = {}").format(
                    sql.Identifier(name), sql.Literal(zone)))
        for engine in list(db._ENGINES.values()):
            engine.dispose()

    set_zone(request.param)
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SHOW timezone")
        assert cur.fetchone()[0] == request.param
    yield request.param
    set_zone(None)


@pytest.mark.parametrize("query", DAY_QUERIES)
def test_the_day_matches_every_commune(client, session_zone, query):
    page = client.get(f"/ogc/collections/communes/items?limit=1&{query}",
                      headers={"accept": "application/geo+json"})
    assert page.status_code == 200, page.text
    assert page.json()["numberMatched"] == 38, (session_zone, query)
    assert page.json()["features"][0]["properties"]["valid_from"] == "2025-07-01"


@pytest.mark.parametrize("query", NOT_THE_DAY)
def test_other_days_match_none(client, session_zone, query):
    page = client.get(f"/ogc/collections/communes/items?limit=1&{query}",
                      headers={"accept": "application/geo+json"})
    assert page.status_code == 200, page.text
    assert page.json()["numberMatched"] == 0, (session_zone, query)


@pytest.mark.parametrize("query", ["datetime=2025-07-01", "datetime=2025-07-01T00:00:00Z",
                                   "datetime=2025-07-01T20:00:00Z"])
def test_the_html_pages_and_the_export_agree(client, session_zone, query):
    html = client.get(f"/ogc/collections/communes/items?f=html&limit=50&{query}",
                      headers={"accept": "text/html"})
    assert html.status_code == 200, html.text[:500]
    shown = {line for line in html.text.split('"') if "/ogc/collections/communes/items/" in line}
    ids = {s.split("/items/")[1].split("?")[0] for s in shown}
    assert len({i for i in ids if i.isdigit()}) == 38, session_zone
    export = client.get(f"/api/v1/layers/communes/export?format=csv&{query}")
    assert export.status_code == 200, export.text
    assert export.headers["x-feature-count"] == "38", session_zone


def test_the_extent_is_the_day_the_items_carry(client, session_zone, settings, database_url):
    from api.ogc import pygeoapi_config
    from gis_core.db import engine_for

    collection = client.get("/ogc/collections/communes?f=json").json()
    [[begin, end]] = collection["extent"]["temporal"]["interval"]
    assert begin.startswith("2025-07-01T00:00:00") and end.startswith("2025-07-01T23:59:59")
    # And computed afresh under this session's time zone, the same.
    config = pygeoapi_config(settings, database_url, engine_for(database_url))
    temporal = config["resources"]["communes"]["extents"]["temporal"]
    assert temporal["begin"].isoformat() == "2025-07-01T00:00:00+00:00"
    assert temporal["end"].isoformat() == "2025-07-01T23:59:59.999999+00:00"
    permits = config["resources"]["construction_permits"]["extents"]["temporal"]
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT min(permit_date), max(permit_date) FROM construction_permits")
        first, last = cur.fetchone()
    assert permits["begin"].date() == first and permits["end"].date() == last


def test_a_date_against_a_timestamp_field_is_the_whole_day(client, session_zone, database_url):
    """``updated_at`` of the communes is 2025-07-01 00:00 in Vietnam, 2025-06-30 17:00 UTC."""
    def matched(query):
        page = client.get(f"/ogc/collections/communes/items?limit=1&{query}",
                          headers={"accept": "application/geo+json"})
        assert page.status_code == 200, page.text
        return page.json()["numberMatched"]

    assert matched("filter=updated_at%20%3D%20DATE('2025-06-30')") == 38
    assert matched("filter=updated_at%20%3D%20DATE('2025-07-01')") == 0
    assert matched("filter=updated_at%20%3D%20TIMESTAMP('2025-06-30T17:00:00Z')") == 38
