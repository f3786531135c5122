"""Fixtures of the feedback tests: an Open311 app's key, a point inside a commune, staff."""

from __future__ import annotations

import psycopg2
import pytest

NAME, PHONE, EMAIL, ID_NUMBER = "Lò Thị Hoà", "0912345678", "lo.thi.hoa@example.vn", "034198007215"


@pytest.fixture(scope="session")
def app_key(database_url) -> str:
    """The API key of a citizen app that posts Open311 requests."""
    from gis_core.db import engine_for
    from governance import accounts

    with engine_for(database_url).begin() as conn:
        _, key = accounts.create_api_client(conn, username="t-open311-app", scopes=())
    return key


@pytest.fixture(scope="session")
def spot(database_url) -> tuple[float, float, str, str]:
    """(lat, lon, commune code, commune name) of a point inside a commune."""
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT ST_Y(p), ST_X(p), code, name FROM communes, ST_PointOnSurface(geom) p "
                    "ORDER BY code LIMIT 1")
        return cur.fetchone()


def audit_texts(database_url) -> str:
    """Every audit entry as text."""
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT coalesce(string_agg(concat_ws(' ', actor, action, target, reason, "
                    "details::text), E'\\n'), '') FROM audit_log")
        return cur.fetchone()[0]
