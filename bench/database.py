"""The bench database: build (or reuse) ``ioc_bench``, and pick the request parameters from its data."""

from __future__ import annotations

import hashlib
import math
import time
from contextlib import closing
from dataclasses import dataclass, field

import psycopg2
from psycopg2 import sql

from bench.config import ROOT, database_url

FEATURE_ID = 1000
BBOX_TARGET = 500
MARKER_PREFIX = "ioc-bench"
# Ours stops any statement after IOC_STATEMENT_TIMEOUT_MS (15 s by default); the database gives the
# peers the same limit, so a runaway query ends as an error instead of loading the machine.
STATEMENT_TIMEOUT = "15s"
TILE_ZOOMS = (10, 12, 14)


@dataclass(frozen=True)
class Fixtures:
    """Request parameters chosen from the data, with the feature counts they select."""

    centre: tuple[float, float]
    bbox: tuple[float, float, float, float]
    bbox_count: int
    polygon_wkt: str
    polygon_count: int
    feature_id: int
    commune: str
    tiles: dict[int, tuple[int, int, int]] = field(default_factory=dict)  # z -> (x, y, count)
    households: int = 0


def commune_code(fx: Fixtures) -> str:
    """The official code of the fixtures' commune ("Tân Phong (03408)" → "03408")."""
    return fx.commune.rsplit("(", 1)[-1].rstrip(")")


def _connect(url: str) -> psycopg2.extensions.connection:
    conn = psycopg2.connect(url, connect_timeout=10)
    conn.autocommit = True
    return conn


def samples_digest() -> str:
    """A short digest of the sample generator, to notice a database built by an older one."""
    digest = hashlib.sha1()  # noqa: S324
    package = ROOT / "layers" / "samples"
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def marker(scale: float) -> str:
    """The database comment that records how the bench database was built."""
    return f"{MARKER_PREFIX} scale={scale:g} samples={samples_digest()}"


def _current_marker(admin_url: str, name: str) -> str | None:
    """The comment of database ``name``, '' when it has none, None when it does not exist."""
    with closing(_connect(admin_url)) as conn, conn.cursor() as cur:
        cur.execute("SELECT coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database "
                    "WHERE datname = %s", (name,))
        row = cur.fetchone()
    return None if row is None else row[0]


def _recreate(admin_url: str, name: str) -> None:
    with closing(_connect(admin_url)) as conn, conn.cursor() as cur:
        cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _finish(admin_url: str, url: str, name: str, scale: float) -> None:
    """VACUUM ANALYZE the loaded tables, then record the marker."""
    with closing(_connect(url)) as conn, conn.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
    with closing(_connect(admin_url)) as conn, conn.cursor() as cur:
        cur.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(
            sql.Identifier(name), sql.Literal(marker(scale))))


def _limit_statements(admin_url: str, name: str) -> None:
    with closing(_connect(admin_url)) as conn, conn.cursor() as cur:
        cur.execute(sql.SQL("ALTER DATABASE {} SET statement_timeout = {}").format(
            sql.Identifier(name), sql.Literal(STATEMENT_TIMEOUT)))


def terminate_backends(admin_url: str, name: str) -> int:
    """End the sessions still open on the bench database (queries of stopped servers); how many."""
    with closing(_connect(admin_url)) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid()", (name,))
        return cur.fetchone()[0]


def wait_idle(admin_url: str, name: str, timeout: float = 60.0) -> float:
    """Wait until no statement runs on the bench database (a previous load drained); seconds waited."""
    started = time.monotonic()
    with closing(_connect(admin_url)) as conn, conn.cursor() as cur:
        while time.monotonic() - started < timeout:
            cur.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND state = 'active' "
                        "AND pid <> pg_backend_pid()", (name,))
            if cur.fetchone()[0] == 0:
                break
            time.sleep(0.2)
    return time.monotonic() - started


def prepare(admin_url: str, name: str, scale: float, *, reuse: bool) -> str:
    """Build the bench database (migrations, samples at ``scale``, VACUUM ANALYZE); its URL.

    With ``reuse``, a database already built at the same scale is kept as it is. Either way its
    sessions get a statement timeout of ``STATEMENT_TIMEOUT``.
    """
    url = database_url(admin_url, name)
    _prepare(admin_url, name, url, scale, reuse=reuse)
    _limit_statements(admin_url, name)
    return url


def _prepare(admin_url: str, name: str, url: str, scale: float, *, reuse: bool) -> None:
    current = _current_marker(admin_url, name)
    wanted = marker(scale)
    from api.cli import load_samples, migrate

    if reuse and current and current.split(" samples=")[0] == wanted.split(" samples=")[0]:
        print(f"· reusing database {name} ({current})")
        if current != wanted:
            print("  ! layers/samples/ changed since it was built; run without --reuse-db to rebuild")
        migrate(url)  # the platform under test needs the current schema
        return

    started = time.monotonic()
    print(f"· building database {name} at scale {scale:g} …", flush=True)
    _recreate(admin_url, name)
    migrate(url)
    counts = load_samples(url, scale)
    _finish(admin_url, url, name, scale)
    from gis_core.db import dispose_engines

    dispose_engines()
    print(f"  {sum(counts.values()):,} features in {len(counts)} layers "
          f"({counts.get('housing', 0):,} households) in {time.monotonic() - started:.0f} s")


_DENSEST_CELL = """
SELECT avg(ST_X(geom)), avg(ST_Y(geom)) FROM housing
WHERE (floor(ST_X(geom) / %(cell)s), floor(ST_Y(geom) / %(cell)s)) = (
    SELECT floor(ST_X(geom) / %(cell)s) AS gx, floor(ST_Y(geom) / %(cell)s) AS gy FROM housing
    WHERE %(commune)s::text IS NULL OR commune_code = %(commune)s
    GROUP BY 1, 2 ORDER BY count(*) DESC, 1, 2 LIMIT 1)
  AND (%(commune)s::text IS NULL OR commune_code = %(commune)s)
"""

_NTH_DISTANCE = """
SELECT d FROM (
    SELECT greatest(abs(ST_X(geom) - %(x)s), abs(ST_Y(geom) - %(y)s)) AS d FROM housing
    WHERE geom && ST_Expand(ST_SetSRID(ST_MakePoint(%(x)s, %(y)s), 4326), 0.2)) s
ORDER BY d OFFSET %(n)s LIMIT 1
"""

_DENSEST_COMMUNE = """
SELECT c.code, c.name FROM communes c JOIN housing h ON h.commune_code = c.code
GROUP BY c.code, c.name, c.geom
ORDER BY count(*) / ST_Area(c.geom::geography) DESC LIMIT 1
"""

_IN_ENVELOPE = ("SELECT count(*) FROM housing "
                "WHERE ST_Intersects(geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326))")
_IN_POLYGON = "SELECT count(*) FROM housing WHERE ST_Intersects(geom, ST_GeomFromText(%s, 4326))"
_IN_TILE = ("SELECT count(*) FROM housing "
            "WHERE ST_Intersects(geom, ST_Transform(ST_TileEnvelope(%s, %s, %s), 4326))")


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The WebMercatorQuad tile (x, y) holding a point at zoom ``z``."""
    n = 2 ** z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return x, y


def _down(value: float) -> float:
    return math.floor(value * 1e6) / 1e6


def _up(value: float) -> float:
    return math.ceil(value * 1e6) / 1e6


def _one(cur: psycopg2.extensions.cursor, query: str, params: object) -> tuple:
    cur.execute(query, params)
    return cur.fetchone()


def _diamond(x: float, y: float, r: float) -> str:
    """A small polygon (a square on its point) of half-diagonal ``r`` around (x, y), as WKT."""
    points = [(x, y - r), (x + r, y), (x, y + r), (x - r, y), (x, y - r)]
    return "POLYGON((" + ", ".join(f"{px:.6f} {py:.6f}" for px, py in points) + "))"


def fixtures(url: str) -> Fixtures:
    """Pick the bbox, polygon, feature and tiles of the requests from the data."""
    with closing(_connect(url)) as conn, conn.cursor() as cur:
        households = _one(cur, "SELECT count(*) FROM housing", None)[0]
        cx, cy = _one(cur, _DENSEST_CELL, {"cell": 0.01, "commune": None})
        half = _one(cur, _NTH_DISTANCE, {"x": cx, "y": cy, "n": BBOX_TARGET - 1})[0]
        bbox = (_down(cx - half), _down(cy - half), _up(cx + half), _up(cy + half))
        bbox_count = _one(cur, _IN_ENVELOPE, bbox)[0]
        polygon = _diamond(cx, cy, half * 0.7)
        polygon_count = _one(cur, _IN_POLYGON, (polygon,))[0]
        row = _one(cur, "SELECT id FROM housing WHERE id = %s", (FEATURE_ID,))
        feature_id = row[0] if row else _one(cur, "SELECT min(id) FROM housing", None)[0]
        code, name = _one(cur, _DENSEST_COMMUNE, None)
        tx, ty = _one(cur, _DENSEST_CELL, {"cell": 0.005, "commune": code})
        tiles = {}
        for z in TILE_ZOOMS:
            x, y = tile_of(tx, ty, z)
            tiles[z] = (x, y, _one(cur, _IN_TILE, (z, x, y))[0])
    return Fixtures(centre=(round(cx, 6), round(cy, 6)), bbox=bbox, bbox_count=bbox_count,
                    polygon_wkt=polygon, polygon_count=polygon_count, feature_id=feature_id,
                    commune=f"{name} ({code})", tiles=tiles, households=households)


def server_versions(url: str) -> dict[str, str]:
    """PostgreSQL and PostGIS versions of the bench database."""
    with closing(_connect(url)) as conn, conn.cursor() as cur:
        postgres = _one(cur, "SHOW server_version", None)[0]
        postgis = _one(cur, "SELECT postgis_lib_version()", None)[0]
    return {"PostgreSQL": postgres, "PostGIS": postgis}


def reader_key(url: str) -> str:
    """A fresh key of the bench's system client (public fields, features of every layer)."""
    from sqlalchemy import create_engine

    from gis_core.db import to_sqlalchemy_url
    from governance import accounts

    engine = create_engine(to_sqlalchemy_url(url))
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM accounts WHERE username = 'bench-reader'")
            _, key = accounts.create_api_client(conn, username="bench-reader", scopes=())
    finally:
        engine.dispose()
    return key
