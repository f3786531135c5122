"""Keeping the time series: partitions ahead, hourly roll-ups, retention — the policies of
``retention.yaml`` (data, not code), run every hour by the workers or by ``ioc iot maintain``.

1. The partitions of this month and the next ``ahead_months`` are created.
2. The hours noted in ``observation_changes`` by the inserts since the last run are rolled up
   into ``observation_hourly`` (recomputed from the raw rows, so late data is counted).
3. A month older than ``raw_months`` is rolled up whole, then its partition is dropped.
4. Hourly aggregates older than ``hourly_months`` are deleted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from sensors.ingest import ensure_partitions

POLICY_FILE = Path(__file__).with_name("retention.yaml")


@dataclass(frozen=True)
class Policy:
    """The retention policy."""

    raw_months: int = 24
    hourly_months: int = 120
    ahead_months: int = 2

    def __post_init__(self) -> None:
        if self.raw_months < 1 or self.hourly_months < self.raw_months or self.ahead_months < 0:
            raise ValueError("retention: raw_months ≥ 1, hourly_months ≥ raw_months, "
                             "ahead_months ≥ 0")


def policy(path: Path = POLICY_FILE) -> Policy:
    """The policy of ``retention.yaml``."""
    return Policy(**(yaml.safe_load(path.read_text(encoding="utf-8")) or {}))


def month(now: datetime, shift: int) -> datetime:
    """The first instant (UTC) of the month ``shift`` months from ``now``'s."""
    index = now.astimezone(UTC).year * 12 + now.astimezone(UTC).month - 1 + shift
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


@dataclass
class Report:
    """What a run did."""

    created: list[str] = field(default_factory=list)
    hours: int = 0
    dropped: list[str] = field(default_factory=list)
    hourly_deleted: int = 0


_ROLLUP = (
    "INSERT INTO observation_hourly (datastream_id, hour, n, min, max, sum) "
    "SELECT k.datastream_id, k.hour, count(*), min(o.result), max(o.result), sum(o.result) "
    "FROM ({keys}) k JOIN observations o ON o.datastream_id = k.datastream_id "
    "AND o.phenomenon_time >= k.hour AND o.phenomenon_time < k.hour + interval '1 hour' "
    "GROUP BY 1, 2 ORDER BY 1, 2 ON CONFLICT (datastream_id, hour) DO UPDATE SET n = EXCLUDED.n, "
    "min = EXCLUDED.min, max = EXCLUDED.max, sum = EXCLUDED.sum")


def rollup(cursor: Any) -> int:
    """Roll up the hours noted since the last run (no commit); how many hours."""
    cursor.execute(
        "CREATE TEMP TABLE IF NOT EXISTS rollup_keys (datastream_id bigint, hour timestamptz) "
        "ON COMMIT DELETE ROWS")
    cursor.execute("WITH d AS (DELETE FROM observation_changes RETURNING datastream_id, hour) "
                   "INSERT INTO rollup_keys SELECT DISTINCT datastream_id, hour FROM d")
    n = cursor.rowcount
    cursor.execute(_ROLLUP.format(keys="SELECT * FROM rollup_keys"))
    return n


def _partitions(cursor: Any) -> list[tuple[str, datetime]]:
    cursor.execute("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                   "WHERE i.inhparent = 'observations'::regclass ORDER BY 1")
    out = []
    for (name,) in cursor.fetchall():
        year, mon = name.removeprefix("observations_").split("_")
        out.append((name, datetime(int(year), int(mon), 1, tzinfo=UTC)))
    return out


def run(cursor: Any, rules: Policy | None = None, now: datetime | None = None) -> Report:
    """One pass of the policy, committed step by step."""
    rules = rules or policy()
    now = now or datetime.now(UTC)
    report = Report()
    before = {n for n, _ in _partitions(cursor)}
    ensure_partitions(cursor, [month(now, k) for k in range(rules.ahead_months + 1)])
    report.created = sorted({n for n, _ in _partitions(cursor)} - before)
    cursor.connection.commit()
    report.hours = rollup(cursor)
    cursor.connection.commit()
    keep_from = month(now, 1 - rules.raw_months)
    for name, first in _partitions(cursor):
        if first >= keep_from:
            continue
        keys = ("SELECT DISTINCT datastream_id, date_trunc('hour', phenomenon_time AT TIME "  # noqa: S608
                f"ZONE 'UTC') AT TIME ZONE 'UTC' AS hour FROM \"{name}\"")  # a partition's name
        cursor.execute(_ROLLUP.format(keys=keys))
        cursor.execute("SET LOCAL lock_timeout = '10s'")
        cursor.execute(f'DROP TABLE "{name}"')
        cursor.connection.commit()
        report.dropped.append(name)
    cursor.execute("DELETE FROM observation_hourly WHERE hour < %s",
                   (month(now, 1 - rules.hourly_months),))
    report.hourly_deleted = cursor.rowcount
    cursor.connection.commit()
    return report
