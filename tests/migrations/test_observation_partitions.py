"""Revision 0023 turns the observations into a table partitioned by month without losing a row
(ids kept), and back, and again; a late reading for a month never seen gets its partition."""

from __future__ import annotations

import psycopg2
from alembic import command

from migrations import alembic_config

ROWS = ("SELECT id, datastream_id, phenomenon_time, result FROM observations "
        "ORDER BY datastream_id, phenomenon_time")


def _partitions(cur) -> list[str]:
    cur.execute("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = 'observations'::regclass ORDER BY 1")
    return [n for (n,) in cur.fetchall()]


def test_observations_survive_upgrade_downgrade_upgrade(unmigrated_database):
    config = alembic_config(unmigrated_database)
    command.upgrade(config, "0023-1")  # the revision before this one
    conn = psycopg2.connect(unmigrated_database)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("INSERT INTO iot_stations (geom, name, kind, status) VALUES "
                    "(ST_SetSRID(ST_MakePoint(103.2, 22.4), 4326), 'Trạm thử', 'rain_gauge', "
                    "'online') RETURNING id")
        station = cur.fetchone()[0]
        cur.execute("INSERT INTO datastreams (station_id, property, unit) VALUES (%s, 'rain', 'mm') "
                    "RETURNING id", (station,))
        ds = cur.fetchone()[0]
        # Three months of 6-hourly readings (2025-11 … 2026-01) and one in 2019.
        cur.execute("INSERT INTO observations (datastream_id, phenomenon_time, result) "
                    "SELECT %s, t, extract(hour FROM t) / 6 FROM generate_series("
                    "'2025-11-01T00:00:00Z'::timestamptz, '2026-01-31T18:00:00Z', interval '6 hours') t "
                    "UNION ALL SELECT %s, '2019-03-05T04:00:00Z', 7.5", (ds, ds))
        cur.execute(ROWS)
        before = cur.fetchall()
    assert len(before) == 369

    command.upgrade(config, "0023")
    with conn.cursor() as cur:
        cur.execute(ROWS)
        assert cur.fetchall() == before
        parts = _partitions(cur)
        assert {"observations_2019_03", "observations_2025_11", "observations_2025_12",
                "observations_2026_01"} <= set(parts)
        cur.execute("SELECT relkind FROM pg_class WHERE relname = 'observations'")
        assert cur.fetchone()[0] == "p"
        cur.execute("SELECT count(*) FROM observation_changes")
        assert cur.fetchone()[0] == 369  # every copied hour noted for the roll-up
        cur.execute("INSERT INTO observations (datastream_id, phenomenon_time, result) "
                    "VALUES (%s, '2026-01-31T19:00:00Z', 1) RETURNING id", (ds,))
        assert cur.fetchone()[0] > max(r[0] for r in before)  # ids go on after the old ones

    command.downgrade(config, "0023-1")
    with conn.cursor() as cur:
        cur.execute("SELECT relkind FROM pg_class WHERE relname = 'observations'")
        assert cur.fetchone()[0] == "r"
        cur.execute(ROWS)
        after = cur.fetchall()
        assert after[:-1] == before and len(after) == 370

    command.upgrade(config, "head")
    with conn.cursor() as cur:
        cur.execute(ROWS)
        assert cur.fetchall() == after
        # A reading for a month without a partition: created on demand, then stored.
        cur.execute("SELECT observation_partition('2017-06-10T00:00:00Z')")
        cur.execute("INSERT INTO observations (datastream_id, phenomenon_time, result) "
                    "VALUES (%s, '2017-06-10T00:00:00Z', 2)", (ds,))
        assert "observations_2017_06" in _partitions(cur)
    conn.close()
