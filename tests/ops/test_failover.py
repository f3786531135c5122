"""A synchronous hot standby takes over: a client writing all along loses no acknowledged write."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import psycopg2
from sqlalchemy import text

from gis_core import embedded, standby
from gis_core.backup import cluster_owner, run_tool
from gis_core.db import engine_for


class Writer(threading.Thread):
    """Inserts numbered rows through the application's engine, noting what was acknowledged."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.engine = engine_for(url, statement_timeout_ms=5_000)
        self.acked: list[tuple[int, float]] = []
        self.failures = 0
        self.stop = threading.Event()

    def run(self) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            try:
                with self.engine.begin() as conn:
                    conn.execute(text("INSERT INTO acks (id) VALUES (:n)"), {"n": n})
            except Exception:  # noqa: BLE001 - any failure during the failover: try again
                self.failures += 1
                time.sleep(0.02)
                continue
            self.acked.append((n, time.monotonic()))

    def wait_for(self, count: int, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while len(self.acked) < count:
            assert time.monotonic() < deadline, f"only {len(self.acked)} writes acknowledged"
            time.sleep(0.05)


def test_promoted_synchronous_standby_has_every_acknowledged_write(scratch_dir: Path) -> None:
    primary = embedded.start(scratch_dir / "pg")
    conn = psycopg2.connect(primary.url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE acks (id bigint PRIMARY KEY, at timestamptz DEFAULT now())")
    conn.close()
    replica = standby.create(scratch_dir / "pg", scratch_dir / "standby", synchronous=True)
    assert standby.replication(primary.url)["sync_state"] == "sync"
    url = (f"postgresql://postgres@127.0.0.1:{primary.port},127.0.0.1:{replica.port}/ioc"
           "?target_session_attrs=read-write&connect_timeout=2")

    writer = Writer(url)
    writer.start()
    writer.wait_for(300)
    before = len(writer.acked)
    data = scratch_dir / "pg" / "data"
    # The primary dies (no checkpoint, no goodbye to clients), then the standby is promoted.
    run_tool([str(embedded.find_pg_bin() / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
             cluster_owner(data), what="pg_ctl stop")
    killed = time.monotonic()
    standby.promote(scratch_dir / "standby")
    writer.wait_for(before + 300)
    writer.stop.set()
    writer.join(timeout=30)

    conn = psycopg2.connect(replica.url)
    with conn.cursor() as cur:
        cur.execute("SELECT pg_is_in_recovery(), array_agg(id) FROM acks")
        in_recovery, present = cur.fetchone()
    conn.close()
    acked = {n for n, _ in writer.acked}
    assert not in_recovery
    assert acked - set(present) == set()  # no acknowledged write lost
    after = [t for _, t in writer.acked if t > killed]
    last_before = max(t for _, t in writer.acked if t <= killed)
    gap = after[0] - last_before
    figures = {"acknowledged": len(acked), "failed_attempts": writer.failures,
               "write_gap_seconds": round(gap, 3)}
    print(json.dumps(figures))  # noqa: T201 - the figures for docs/reliability.md


def test_multi_host_url_reaches_the_driver_with_every_host() -> None:
    from gis_core.db import to_sqlalchemy_url

    url = "postgresql://ioc:mật@db1:5432,db2:5433/ioc?target_session_attrs=read-write"
    assert to_sqlalchemy_url(url) == ("postgresql+psycopg2://ioc:mật@/ioc?host=db1:5432&host=db2:5433"
                                      "&target_session_attrs=read-write")
    assert to_sqlalchemy_url("postgresql://u@h:5432/ioc") == "postgresql+psycopg2://u@h:5432/ioc"
