"""``python -m bench.sensors``: MQTT ingestion and SensorThings reads, against their anchors.

    python -m bench.sensors [--rate 2000] [--seconds 60] [--workers 1] [--database URL]

1. A fresh database (``ioc_bench_sensors``, samples at ``--scale``) unless ``--database`` is
   given, with a month of 10-minute readings for every measuring station written by SQL.
2. ``ioc iot listen`` runs as its own process; this process publishes ``--rate`` readings a
   second (QoS 1, one reading per message, each station in turn, its phenomenon time the moment
   of publishing) for ``--seconds``, and resends 1 % of them. Counted in the database: readings
   stored against readings sent (lost, duplicated), the sustained rate, and publish → commit
   delay (``received_at`` − phenomenon time; the row's ``clock_timestamp()`` at insert).
3. SensorThings queries (``sensors.sta.Reader`` in-process, the JSON built, no HTTP) beside the
   SQL that answers the same question directly: latest reading of every station, a day of one
   datastream. Median of ``--runs``; the ratio is what the SensorThings layer adds.
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
    """A month of 10-minute readings for every datastream, ending a day ago."""
    from sensors.ingest import sync_datastreams

    with conn.cursor() as cur:
        sync_datastreams(cur)
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


def ingest(url: str, rate: int, seconds: int, workers: int) -> dict[str, Any]:
    """Publish at ``rate`` for ``seconds`` to a listener process; what the database holds after."""
    root = f"bench-{uuid.uuid4().hex[:8]}/stations"
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT station_id FROM datastreams ORDER BY station_id")
        stations = [s for (s,) in cur.fetchall()]
        cur.execute("SELECT coalesce(max(id), 0) FROM observations")
        before = cur.fetchone()[0]
    env = {**os.environ, "DATABASE_URL": url, "IOC_MQTT_TOPIC": root}
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
            "stored_rate": stored / span if span else float("nan"),
            "p50_ms": p50 * 1000, "p99_ms": p99 * 1000}


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
    args = p.parse_args()
    url = args.database or _fresh_database(args.scale)
    conn = psycopg2.connect(url)
    history = _history(conn)
    conn.close()
    print(f"history: {history} readings written by SQL")
    r = ingest(url, args.rate, args.seconds, args.workers)
    print(f"ingest over MQTT ({args.workers} listener thread(s), {args.seconds} s at {args.rate}/s):")
    print(f"  sent {r['sent']} (+{r['resent']} resent), stored {r['stored']}, lost {r['lost']}, "
          f"duplicates {r['duplicates']} (publishes the broker never confirmed: {r['unconfirmed']})")
    print(f"  publish rate {r['publish_rate']:.0f}/s, stored rate {r['stored_rate']:.0f}/s, "
          f"publish→commit p50 {r['p50_ms']:.0f} ms, p99 {r['p99_ms']:.0f} ms")
    print(f"{'SensorThings query':48} {'STA ms':>8} {'SQL ms':>8} {'ratio':>6}")
    for label, sta, raw in queries(url, args.runs):
        print(f"{label:48} {sta:8.2f} {raw:8.2f} {sta / raw:6.1f}")


if __name__ == "__main__":
    main()
