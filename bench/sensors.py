"""``python -m bench.sensors``: ingestion (MQTT, HTTP batch, raw COPY), SensorThings reads and
aggregates on the partitioned table, against their anchors.

    python -m bench.sensors [--rate 2000] [--seconds 60] [--workers 1] [--database URL]
                            [--days 30] [--http 20000] [--batch 1000]

1. A fresh database (``ioc_bench_sensors``, samples at ``--scale``) unless ``--database`` is
   given, with ``--days`` of 10-minute readings for every measuring station written by SQL.
2. ``ioc iot listen`` runs as its own process; this process publishes ``--rate`` readings a
   second (QoS 1, one reading per message, each station in turn, its phenomenon time the moment
   of publishing) for ``--seconds``, and resends 1 % of them. Counted in the database: readings
   stored against readings sent (lost, duplicated), the sustained rate, and publish → commit
   delay (``received_at`` − phenomenon time; the row's ``clock_timestamp()`` at insert).
3. ``--http`` readings posted to ``ioc serve`` (one worker) in batches of ``--batch`` by two
   clients with a key scoped to every station, each answered after its commit; and the same
   number written by ``COPY … FROM STDIN`` in one transaction (the floor: no parsing, no checks,
   no answer). Readings a second of each path, and the ratio to COPY.
4. SensorThings queries (``sensors.sta.Reader`` in-process, the JSON built, no HTTP) beside the
   SQL that answers the same question directly: latest reading of every station, a day of one
   datastream. Median of ``--runs``; the ratio is what the SensorThings layer adds.
5. Aggregates (``sensors.aggregates``: hourly over a month of one datastream, daily over the
   history of every datastream, the maximum over a week) on the monthly partitions and on a plain
   copy of the same rows (``observations_flat``, same indexes): the ratio is what the
   partitioning gains or costs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import paho.mqtt.client as mqtt
import psycopg2
from psycopg2 import sql

from bench.config import ADMIN_URL, ROOT

DATABASE = "ioc_bench_sensors"


def _fresh_database(scale: float) -> str:
    from api.cli import load_samples, migrate

    admin = psycopg2.connect(ADMIN_URL)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DATABASE)))
        cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))
    admin.close()
    url = ADMIN_URL.rsplit("/", 1)[0] + "/" + DATABASE
    migrate(url)
    load_samples(url, scale)
    return url


def _history(conn: Any, days: int = 30) -> int:
    """``days`` of 10-minute readings for every datastream, ending a day ago."""
    from sensors.ingest import ensure_partitions, sync_datastreams

    with conn.cursor() as cur:
        sync_datastreams(cur)
        now = datetime.now(UTC)
        ensure_partitions(cur, [now - timedelta(days=d) for d in range(days + 2)])
        cur.execute(
            "INSERT INTO observations (datastream_id, phenomenon_time, result) "
            "SELECT d.id, t, CASE d.property WHEN 'water_level' THEN 1.5 + random() "
            "WHEN 'pm25' THEN 30 + 20 * random() ELSE 2 * random() END "
            "FROM datastreams d, generate_series(date_trunc('hour', now()) - make_interval(days => %s + 1), "
            "date_trunc('hour', now()) - interval '1 day', interval '10 minutes') t "
            "ON CONFLICT DO NOTHING", (days,))
        n = cur.rowcount
        cur.execute("ANALYZE observations")
    conn.commit()
    return n


def _publish(client: mqtt.Client, topic: str, payload: str) -> mqtt.MQTTMessageInfo:
    """Publish with QoS 1, waiting while the client's own queue is full."""
    while True:
        info = client.publish(topic, payload, qos=1)
        if info.rc != mqtt.MQTT_ERR_QUEUE_SIZE:
            return info
        time.sleep(0.001)


def ingest(url: str, rate: int, seconds: int, workers: int, sta: bool = True) -> dict[str, Any]:
    """Publish at ``rate`` for ``seconds`` to a listener process (publishing on the SensorThings
    topics or not); what the database holds after."""
    root = f"bench-{uuid.uuid4().hex[:8]}/stations"
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT station_id FROM datastreams ORDER BY station_id")
        stations = [s for (s,) in cur.fetchall()]
        cur.execute("SELECT coalesce(max(id), 0) FROM observations")
        before = cur.fetchone()[0]
    env = {**os.environ, "DATABASE_URL": url, "IOC_MQTT_TOPIC": root,
           "IOC_STA_MQTT": "true" if sta else "false", "IOC_STA_MQTT_PREFIX": "bench/"}
    listener = subprocess.Popen([sys.executable, "-m", "api.cli", "iot", "listen", "--workers",
                                 str(workers)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
    time.sleep(3)
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.max_inflight_messages_set(5000)
    client.connect("127.0.0.1", 1883)
    client.loop_start()
    sent, resent, infos = 0, 0, []
    started = time.perf_counter()
    try:
        while (elapsed := time.perf_counter() - started) < seconds:
            due = int(elapsed * rate) - sent
            for _ in range(max(0, due)):
                station = stations[sent % len(stations)]
                payload = json.dumps({"phenomenonTime": datetime.now(UTC).isoformat(),
                                      "result": 0.2})
                infos.append(_publish(client, f"{root}/{station}", payload))
                if sent % 100 == 0:  # 1 % sent twice
                    infos.append(_publish(client, f"{root}/{station}", payload))
                    resent += 1
                sent += 1
            time.sleep(0.002)
        publish_seconds = time.perf_counter() - started
        confirm_by = time.monotonic() + 60
        for info in infos:
            if not info.is_published():
                info.wait_for_publish(timeout=max(0.01, confirm_by - time.monotonic()))
        unconfirmed = sum(not info.is_published() for info in infos)
        deadline = time.monotonic() + 120
        while True:
            with conn.cursor() as cur:
                cur.execute("SELECT count(*) FROM observations WHERE id > %s", (before,))
                stored = cur.fetchone()[0]
            if stored >= sent or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        time.sleep(2)  # anything more (a duplicate) would show now
    finally:
        listener.terminate()
        listener.wait(timeout=60)
        client.loop_stop()
        client.disconnect()
    with conn.cursor() as cur:
        cur.execute(
            "SELECT count(*), count(DISTINCT (datastream_id, phenomenon_time)), "
            "extract(epoch FROM max(received_at) - min(received_at)), "
            "percentile_cont(ARRAY[0.5, 0.99]) WITHIN GROUP (ORDER BY extract(epoch FROM "
            "received_at - phenomenon_time)) FROM observations WHERE id > %s", (before,))
        stored, distinct, span, (p50, p99) = cur.fetchone()
    conn.close()
    return {"sent": sent, "resent": resent, "unconfirmed": unconfirmed, "stored": stored,
            "lost": sent - distinct,
            "duplicates": stored - distinct, "publish_rate": sent / publish_seconds,
            "stored_rate": float(stored / span) if span else float("nan"),
            "p50_ms": float(p50) * 1000, "p99_ms": float(p99) * 1000}


def _key(url: str, stations: list[int]) -> str:
    from gis_core.db import engine_for
    from governance import accounts

    with engine_for(url).begin() as conn:
        _, key = accounts.create_api_client(conn, username=f"bench-{uuid.uuid4().hex[:6]}",
                                            scopes=tuple(f"observe:{s}" for s in stations))
    return key


def _fresh_start(url: str) -> datetime:
    """A minute after every reading older than 100 days (those of earlier runs of this bench)."""
    conn = psycopg2.connect(url)
    with conn.cursor() as cur:
        cur.execute("SELECT coalesce(max(phenomenon_time), now() - interval '400 days') FROM "
                    "observations WHERE phenomenon_time < now() - interval '100 days'")
        last = cur.fetchone()[0]
    conn.close()
    return last.replace(second=0, microsecond=0) + timedelta(minutes=1)


def _readings(stations: list[int], n: int, first: datetime) -> list[dict[str, Any]]:
    """``n`` readings, station after station, one minute apart for each."""
    return [{"station": stations[k % len(stations)],
             "phenomenonTime": (first + timedelta(minutes=k // len(stations))).isoformat(),
             "result": 0.3} for k in range(n)]


def http_ingest(url: str, n: int, batch: int) -> dict[str, Any]:
    """Post ``n`` readings in batches to a served platform (two clients): readings a second."""
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    from bench import servers, systems

    conn = psycopg2.connect(url)
    with conn.cursor() as cur:
        cur.execute("SELECT station_id FROM datastreams ORDER BY station_id")
        stations = [s for (s,) in cur.fetchall()]
    conn.close()
    key = _key(url, stations)
    items = _readings(stations, n, _fresh_start(url))
    batches = [items[i:i + batch] for i in range(0, n, batch)]
    server = servers.start(systems.ours(url, servers.free_port(), 1, name="ours_sensors"))
    try:
        if not servers.wait_ready(server):
            raise RuntimeError(f"ioc serve did not start: {server.error}")
        with httpx.Client(base_url=server.base_url, headers={"X-API-Key": key}, timeout=120) as c:
            c.post("/api/v1/sensors/observations", json=[])  # warm-up: the publisher connects
            started = time.perf_counter()
            with ThreadPoolExecutor(2) as pool:
                answers = list(pool.map(
                    lambda b: c.post("/api/v1/sensors/observations", json=b), batches))
            elapsed = time.perf_counter() - started
    finally:
        servers.stop(server)
    failed = [a for a in answers if a.status_code != 200]
    if failed:
        raise RuntimeError(f"{len(failed)} posts failed: {failed[0].status_code} {failed[0].text}")
    stored = sum(a.json()["stored"] for a in answers)
    return {"sent": n, "stored": stored, "rate": n / elapsed}


def copy_ingest(url: str, n: int) -> dict[str, Any]:
    """``COPY`` ``n`` readings in one transaction: readings a second."""
    import io

    from sensors.ingest import ensure_partitions

    first = _fresh_start(url)
    conn = psycopg2.connect(url)
    with conn.cursor() as cur:
        cur.execute("SELECT id FROM datastreams ORDER BY id")
        streams = [d for (d,) in cur.fetchall()]
        rows = [(streams[k % len(streams)], first + timedelta(minutes=k // len(streams)))
                for k in range(n)]
        ensure_partitions(cur, [t for _, t in rows])
        conn.commit()
        data = io.StringIO("".join(f"{d}\t{t.isoformat()}\t0.3\n" for d, t in rows))
        started = time.perf_counter()
        cur.copy_expert("COPY observations (datastream_id, phenomenon_time, result) FROM STDIN",
                        data)
        conn.commit()
        elapsed = time.perf_counter() - started
    conn.close()
    return {"sent": n, "rate": n / elapsed}


def _flat_copy(cur: Any) -> None:
    """``observations_flat``: the same rows in one plain table with the same indexes."""
    cur.execute("DROP TABLE IF EXISTS observations_flat")
    cur.execute("CREATE TABLE observations_flat AS SELECT * FROM observations")
    cur.execute("ALTER TABLE observations_flat ADD PRIMARY KEY (id), "
                "ADD UNIQUE (datastream_id, phenomenon_time)")
    cur.execute("CREATE INDEX ON observations_flat USING brin (phenomenon_time)")
    cur.execute("ANALYZE observations_flat")
    cur.execute("ANALYZE observations")
    cur.connection.commit()


def aggregate_queries(url: str, runs: int) -> list[tuple[str, float, float]]:
    """(case, partitioned ms, plain table ms): the same SQL on both tables."""
    from sensors import aggregates

    conn = psycopg2.connect(url)
    cur = conn.cursor()
    _flat_copy(cur)
    cur.execute("SELECT id FROM datastreams WHERE property = 'water_level' ORDER BY id LIMIT 1")
    ds = cur.fetchone()[0]
    cur.execute("SELECT min(phenomenon_time), max(phenomenon_time) FROM observations "
                "WHERE phenomenon_time > now() - interval '120 days'")
    first, last = cur.fetchone()
    week = (last - timedelta(days=7), last)
    month = (last - timedelta(days=30), last)

    def on(table: str, statement: str, params: dict[str, Any]) -> Callable[[], Any]:
        def run() -> Any:
            cur.execute(statement.replace("observations ", f"{table} "), params)
            return cur.fetchall()
        return run

    hourly = ("SELECT date_trunc('hour', phenomenon_time, %(zone)s), count(*), min(result), "
              "max(result), sum(result), avg(result) FROM observations WHERE datastream_id = %(ds)s "
              "AND phenomenon_time >= %(start)s AND phenomenon_time < %(end)s GROUP BY 1 ORDER BY 1")
    daily_all = ("SELECT datastream_id, date_trunc('day', phenomenon_time, %(zone)s), count(*), "
                 "min(result), max(result), sum(result) FROM observations "
                 "WHERE phenomenon_time >= %(start)s AND phenomenon_time < %(end)s "
                 "GROUP BY 1, 2 ORDER BY 1, 2")
    peak = ("SELECT datastream_id, max(result) FROM observations WHERE phenomenon_time >= %(start)s "
            "AND phenomenon_time < %(end)s GROUP BY 1")
    zone = aggregates.ZONE
    cases = [
        ("hourly, one datastream, 30 days", hourly,
         {"zone": zone, "ds": ds, "start": month[0], "end": month[1]}),
        ("daily, every datastream, whole history", daily_all,
         {"zone": zone, "start": first, "end": last}),
        ("max per datastream, last 7 days", peak, {"start": week[0], "end": week[1]}),
    ]
    out = [(label, _median(on("observations", sql_, p), runs),
            _median(on("observations_flat", sql_, p), runs)) for label, sql_, p in cases]
    api = _median(lambda: aggregates.series(cur, ds, "hour", *month), runs)
    out.append(("sensors.aggregates.series, hourly, 30 days", api,
                _median(on("observations_flat", hourly,
                           {"zone": zone, "ds": ds, "start": month[0], "end": month[1]}), runs)))
    cur.execute("DROP TABLE observations_flat")
    conn.commit()
    conn.close()
    return out


def _median(fn: Callable[[], Any], runs: int) -> float:
    fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def queries(url: str, runs: int) -> list[tuple[str, float, float]]:
    """(case, SensorThings ms, raw SQL ms)."""
    from sensors.sta import Reader

    conn = psycopg2.connect(url)
    cur = conn.cursor()
    reader = Reader(cur, "http://127.0.0.1:8000/sta/v1.1")
    cur.execute("SELECT id FROM datastreams WHERE property = 'water_level' ORDER BY id LIMIT 1")
    ds = cur.fetchone()[0]
    day_end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=2)
    day_start = day_end - timedelta(days=1)
    iso = lambda t: t.isoformat().replace("+00:00", "Z")  # noqa: E731

    def sql_rows(statement: str, params: Any) -> Callable[[], Any]:
        def run() -> Any:
            cur.execute(statement, params)
            return cur.fetchall()
        return run

    cases = [
        ("latest reading of every station",
         lambda: reader.get("Datastreams", {"$top": "1000", "$select": "id,name",
                                            "$expand": "Observations($top=1;$orderby=phenomenonTime desc)"}),
         sql_rows("SELECT d.id, l.phenomenon_time, l.result FROM datastreams d CROSS JOIN LATERAL "
                  "(SELECT phenomenon_time, result FROM observations o WHERE o.datastream_id = d.id "
                  "ORDER BY phenomenon_time DESC LIMIT 1) l", ())),
        ("a day of one datastream (144 readings)",
         lambda: reader.get(f"Datastreams({ds})/Observations", {
             "$filter": f"phenomenonTime ge {iso(day_start)} and phenomenonTime lt {iso(day_end)}",
             "$orderby": "phenomenonTime asc", "$top": "1000"}),
         sql_rows("SELECT id, phenomenon_time, result FROM observations WHERE datastream_id = %s "
                  "AND phenomenon_time >= %s AND phenomenon_time < %s ORDER BY phenomenon_time",
                  (ds, day_start, day_end))),
        ("observations over a threshold, one month, $count",
         lambda: reader.get("Observations", {"$filter": f"Datastream/id eq {ds} and result gt 2.4",
                                             "$count": "true", "$top": "100"}),
         sql_rows("SELECT count(*) FROM observations WHERE datastream_id = %s AND result > 2.4",
                  (ds,))),
    ]
    out = [(label, _median(sta, runs), _median(raw, runs)) for label, sta, raw in cases]
    conn.rollback()
    conn.close()
    return out


def main() -> None:
    """Run and print the figures."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rate", type=int, default=2000)
    p.add_argument("--seconds", type=int, default=60)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--runs", type=int, default=30)
    p.add_argument("--database")
    p.add_argument("--days", type=int, default=30, help="days of history written by SQL")
    p.add_argument("--http", type=int, default=20_000, help="readings posted over HTTP and COPY")
    p.add_argument("--batch", type=int, default=1000, help="readings a POST")
    args = p.parse_args()
    url = args.database or _fresh_database(args.scale)
    conn = psycopg2.connect(url)
    history = _history(conn, args.days)
    conn.close()
    print(f"history: {history} readings written by SQL")
    h = http_ingest(url, args.http, args.batch)
    c = copy_ingest(url, args.http)
    quiet = ingest(url, args.rate, args.seconds, args.workers, sta=False)
    r = ingest(url, args.rate, args.seconds, args.workers)
    print(f"ingest over MQTT ({args.workers} listener thread(s), {args.seconds} s at {args.rate}/s):")
    print(f"  sent {r['sent']} (+{r['resent']} resent), stored {r['stored']}, lost {r['lost']}, "
          f"duplicates {r['duplicates']} (publishes the broker never confirmed: {r['unconfirmed']})")
    print(f"  publish rate {r['publish_rate']:.0f}/s, stored rate {r['stored_rate']:.0f}/s, "
          f"publish→commit p50 {r['p50_ms']:.0f} ms, p99 {r['p99_ms']:.0f} ms")
    print(f"  without SensorThings MQTT publishing: stored {quiet['stored']}, lost {quiet['lost']}, "
          f"duplicates {quiet['duplicates']}, p50 {quiet['p50_ms']:.0f} ms, p99 {quiet['p99_ms']:.0f} ms")
    print(f"{'ingestion path':48} {'readings/s':>10} {'vs COPY':>8}")
    for label, rate in ((f"raw COPY ({c['sent']} in one transaction)", c["rate"]),
                        (f"HTTP batch ({h['sent']} by {args.batch}, 2 clients; stored "
                         f"{h['stored']})", h["rate"]),
                        (f"MQTT, offered {args.rate}/s, one reading a message", r["stored_rate"]),
                        ("  the same without SensorThings MQTT publishing", quiet["stored_rate"])):
        print(f"{label:48} {rate:10.0f} {rate / c['rate']:8.3f}")
    print(f"{'SensorThings query':48} {'STA ms':>8} {'SQL ms':>8} {'ratio':>6}")
    for label, sta, raw in queries(url, args.runs):
        print(f"{label:48} {sta:8.2f} {raw:8.2f} {sta / raw:6.1f}")
    print(f"{'aggregate query':48} {'part. ms':>8} {'flat ms':>8} {'ratio':>6}")
    for label, part, flat in aggregate_queries(url, args.runs):
        print(f"{label:48} {part:8.2f} {flat:8.2f} {part / flat:6.2f}")


if __name__ == "__main__":
    main()
