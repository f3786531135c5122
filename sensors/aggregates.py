"""Server-side aggregates of a datastream in SQL: count, min, max, sum and mean by hour, day or
month (days and months of the province's clock, UTC+7).

Where raw observations are still kept (from the oldest monthly partition on) they are read
directly, so the figures are current to the last commit; before that, the hourly aggregates the
maintenance job kept when it dropped the raw months. Both are the same sums, so a bucket that
spans the boundary adds up.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

GRAINS = ("hour", "day", "month")
STATISTICS = ("count", "min", "max", "sum", "mean")
ZONE = "Asia/Ho_Chi_Minh"


def raw_since(cursor: Any) -> datetime | None:
    """The start of the oldest raw month kept (None without any partition)."""
    cursor.execute("SELECT min(c.relname) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                   "WHERE i.inhparent = 'observations'::regclass")
    name = cursor.fetchone()[0]
    if name is None:
        return None
    year, month = name.removeprefix("observations_").split("_")
    return datetime(int(year), int(month), 1, tzinfo=UTC)


def series(cursor: Any, datastream: int, grain: str, start: datetime, end: datetime
           ) -> list[dict[str, Any]]:
    """The buckets of ``grain`` between ``start`` (included) and ``end`` (excluded) that hold
    observations, in time order."""
    if grain not in GRAINS:
        raise ValueError(f"grain must be one of {GRAINS}")
    since = raw_since(cursor) or end
    cursor.execute(
        "SELECT date_trunc(%(grain)s, t, %(zone)s) AS bucket, sum(n)::bigint, min(lo), max(hi), "
        "sum(total) FROM ("
        " SELECT phenomenon_time t, 1 n, result lo, result hi, result total FROM observations "
        " WHERE datastream_id = %(ds)s AND phenomenon_time >= greatest(%(start)s, %(since)s) "
        " AND phenomenon_time < %(end)s"
        " UNION ALL"
        " SELECT hour, n, min, max, sum FROM observation_hourly WHERE datastream_id = %(ds)s "
        " AND hour >= %(start)s AND hour < least(%(end)s, %(since)s)"
        ") x GROUP BY 1 ORDER BY 1",
        {"grain": grain, "zone": ZONE, "ds": datastream, "start": start, "end": end,
         "since": since})
    return [{"time": b, "count": n, "min": lo, "max": hi, "sum": s, "mean": s / n}
            for b, n, lo, hi, s in cursor.fetchall()]
