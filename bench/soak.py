"""``make soak``: a mixed load of N minutes against a served app, with PostgreSQL restarted, crashed
and backed up in the middle; counts errors, lost writes and memory.

Runs on a cluster of its own (under /tmp, initdb'd here, samples loaded), never on a shared server:
    python -m bench.soak --minutes 10 [--clients 4] [--scale 0.2]
Writes ``var/soak/report.json`` and prints the figures docs/reliability.md quotes.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import shutil
import statistics
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg2
from PIL import Image

from bench.servers import ServerSpec, clean_env, free_port, start, stop, wait_ready
from gis_core import embedded
from gis_core.backup import BackupError, Backups, cluster_owner, run_tool

ROOT = Path(__file__).resolve().parents[1]
BOX = (103.2, 22.1, 103.7, 22.6)  # inside the province: tiles and new houses
PASSWORD = "Soak-Lai-Chau-2026"


def _tile(z: int) -> tuple[int, int]:
    import math

    lon, lat = random.uniform(BOX[0], BOX[2]), random.uniform(BOX[1], BOX[3])
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def _jpeg(lon: float, lat: float) -> bytes:
    def dms(v: float) -> tuple[float, float, float]:
        d, m = int(v), int((v - int(v)) * 60)
        return (float(d), float(m), round(((v - d) * 60 - m) * 60, 4))

    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: dms(lat), 3: "E", 4: dms(lon)}
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (random.randrange(256), 140, 90)).save(buffer, "JPEG",
                                                                      exif=exif.tobytes())
    return buffer.getvalue()


class Load:
    """Client threads: reads of items and tiles, edits and field submissions."""

    def __init__(self, base: str, tokens: dict[str, str], points: list[tuple[str, float, float]]):
        self.base, self.tokens, self.points = base, tokens, points
        self.samples: list[tuple[float, str, int, float]] = []  # (t, route, status, seconds)
        self.created: list[int] = []  # housing ids acknowledged with 201
        self.submitted: list[int] = []  # field edit ids acknowledged with 201
        self.stop = threading.Event()
        self.lock = threading.Lock()

    def _one(self, client: httpx.Client) -> tuple[str, httpx.Response]:
        r = random.random()
        if r < 0.35:
            x, y = _tile(12)
            return "tile", client.get(f"/tiles/communes,roads,schools/12/{x}/{y}.mvt")
        if r < 0.65:
            b = random.uniform(BOX[0], BOX[2] - 0.1), random.uniform(BOX[1], BOX[3] - 0.1)
            return "items", client.get("/ogc/collections/schools/items", params={
                "limit": 50, "bbox": f"{b[0]},{b[1]},{b[0] + 0.1},{b[1] + 0.1}"})
        if r < 0.75:
            return "feature", client.get(f"/ogc/collections/communes/items?limit=5&offset="
                                         f"{random.randrange(30)}")
        code, lon, lat = random.choice(self.points)
        if r < 0.9:  # an operator's edit anywhere; field staff survey their own commune
            house = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
                     "properties": {"household_code": f"SOAK-{uuid.uuid4().hex[:10]}",
                                    "head_of_household": "Lò Văn Tủa", "members": 4,
                                    "poverty_status": "near_poor", "house_type": "semi_permanent",
                                    "commune_code": code, "surveyed_at": "2026-11-30T08:00:00Z"}}
            resp = client.post("/ogc/collections/housing/items", json=house, headers={
                "Authorization": f"Bearer {self.tokens['op']}",
                "content-type": "application/geo+json"})
            if resp.status_code == 201:
                with self.lock:
                    self.created.append(int(resp.headers["location"].rsplit("/", 1)[1]))
            return "edit", resp
        _, lon, lat = self.points[0]
        lon, lat = lon + random.uniform(-1e-4, 1e-4), lat + random.uniform(-1e-4, 1e-4)
        record = {"client_uuid": str(uuid.uuid4()), "position_source": "exif",
                  "fields": {"household_code": f"SOAK-F-{uuid.uuid4().hex[:8]}",
                             "head_of_household": "Giàng A Páo", "members": 5,
                             "poverty_status": "poor", "house_type": "temporary"}}
        resp = client.post("/api/v1/field/households",
                           headers={"Authorization": f"Bearer {self.tokens['field']}"},
                           data={"data": json.dumps(record, ensure_ascii=False)},
                           files={"photo": ("nha.jpg", _jpeg(lon, lat), "image/jpeg")})
        if resp.status_code == 201:
            with self.lock:
                self.submitted.append(int(resp.json()["id"]))
        return "field", resp

    def client(self) -> None:
        with httpx.Client(base_url=self.base, timeout=30) as client:
            while not self.stop.is_set():
                started = time.monotonic()
                try:
                    route, resp = self._one(client)
                    status = resp.status_code
                except httpx.HTTPError:
                    route, status = "connection", 0
                with self.lock:
                    self.samples.append((started, route, status, time.monotonic() - started))


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def _rss_kb(pid: int) -> int:
    from bench.servers import _status_kb, children

    return sum(_status_kb(p, "VmRSS") or 0 for p in [pid, *children(pid)])


def _pg_ctl(root: Path, *args: str) -> float:
    data = root / "data"
    started = time.monotonic()
    run_tool([str(embedded.find_pg_bin() / "pg_ctl"), "-D", str(data), "-w", *args],
             cluster_owner(data), what="pg_ctl")
    return time.monotonic() - started


def _gap(samples: list[tuple[float, str, int, float]], since: float) -> dict[str, Any]:
    """Failed requests in the minute from ``since`` on, and when the last of them ended.

    (Not "until the first success": a cached tile answers while the database is down.)
    """
    failed = [t + took for t, _route, status, took in samples
              if since <= t < since + 60 and (status == 0 or status >= 500)]
    return {"failed_requests": len(failed),
            "recovered_after_s": round(max(failed) - since, 2) if failed else 0.0}


def _setup(root: Path, scale: float) -> tuple[str, list[tuple[str, float, float]]]:
    from api.cli import load_samples, migrate
    from gis_core.db import engine_for
    from governance import accounts

    url = embedded.start(root).url
    migrate(url)
    load_samples(url, scale)
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT code, ST_X(p), ST_Y(p) FROM (SELECT code, ST_PointOnSurface(geom) p "
                    "FROM communes) s ORDER BY code")
        points = [(c, float(x), float(y)) for c, x, y in cur.fetchall()]
    with engine_for(url).begin() as conn:
        accounts.create_account(conn, username="soak_op", role="operator", password=PASSWORD)
        accounts.create_account(conn, username="soak_field", role="field_staff",
                                password=PASSWORD, commune_code=points[0][0])
    return url, points


def run(minutes: float, clients: int, scale: float) -> dict[str, Any]:
    """The whole soak; returns the report."""
    tmp = Path(tempfile.mkdtemp(prefix="ioc-soak-", dir="/tmp"))
    os.chmod(tmp, 0o755)
    root = tmp / "pg"
    report: dict[str, Any] = {"minutes": minutes, "clients": clients, "scale": scale,
                              "started": datetime.now(UTC).isoformat()}
    server = None
    try:
        url, points = _setup(root, scale)
        backups = Backups(root, tmp / "backup")
        first = backups.backup("full")
        report["backup_full_s"] = first["seconds"]
        port = free_port()
        env = clean_env(DATABASE_URL=url, IOC_VAR_DIR=str(tmp / "var"), IOC_PORT=str(port),
                        IOC_TOKEN_MINUTES="600", IOC_ANONYMOUS_RUNS_PER_MINUTE="1000000",
                        IOC_SIGN_INS_PER_MINUTE="1000000")
        server = start(ServerSpec("ioc", [str(ROOT / ".venv/bin/ioc"), "serve", "--port",
                                          str(port)], env, port, "/ogc", ROOT, tmp / "server.log"))
        if not wait_ready(server):
            raise RuntimeError(server.error)
        tokens = {}
        for key, user in (("op", "soak_op"), ("field", "soak_field")):
            resp = httpx.post(f"{server.base_url}/api/v1/auth/token",
                              json={"username": user, "password": PASSWORD})
            tokens[key] = resp.json()["access_token"]
        load = Load(server.base_url, tokens, points)
        threads = [threading.Thread(target=load.client, daemon=True) for _ in range(clients)]
        t0 = time.monotonic()
        for thread in threads:
            thread.start()
        duration = minutes * 60
        memory: list[tuple[float, int]] = []
        events: dict[str, Any] = {}
        plan = [(duration / 4, "restart"), (duration / 2, "backup"), (3 * duration / 4, "crash")]
        while (elapsed := time.monotonic() - t0) < duration:
            memory.append((round(elapsed), _rss_kb(server.process.pid)))
            if plan and elapsed >= plan[0][0]:
                _, event = plan.pop(0)
                at = time.monotonic()
                events[event] = {"at_s": round(at - t0, 1)}
                if event == "restart":
                    events["restart"]["pg_ctl_s"] = round(_pg_ctl(
                        root, "-m", "fast", "-l", str(root / "server.log"), "restart"), 2)
                    time.sleep(5)
                    events["restart"].update(_gap(load.samples, at))
                elif event == "crash":
                    _pg_ctl(root, "-m", "immediate", "stop")
                    events["crash"]["recovery_start_s"] = round(_pg_ctl(
                        root, "-l", str(root / "server.log"), "start"), 2)
                    time.sleep(5)
                    events["crash"].update(_gap(load.samples, at))
                else:
                    diff = backups.backup("diff")
                    verified = backups.verify()
                    events["backup"].update({
                        "diff_s": diff["seconds"], "verify_s": verified["seconds"],
                        "restore_s": verified["restore_seconds"], "ok": verified["ok"],
                        "rows": verified["rows"]})
            time.sleep(min(10.0, max(0.5, duration - elapsed)))
        load.stop.set()
        for thread in threads:
            thread.join(timeout=60)
        memory.append((round(time.monotonic() - t0), _rss_kb(server.process.pid)))

        with psycopg2.connect(url) as conn, conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM housing WHERE id = ANY(%s)", (load.created,))
            houses = cur.fetchone()[0]
            cur.execute("SELECT count(*) FROM pending_edits WHERE id = ANY(%s)", (load.submitted,))
            edits = cur.fetchone()[0]
        # Point-in-time recovery of the whole cluster to now, timed (the RTO of a restore).
        when = datetime.now(UTC)
        started = time.monotonic()
        with psycopg2.connect(url) as conn, conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM housing")
            houses_now = cur.fetchone()[0]
        try:
            with backups.scratch() as data:
                backups.restore_to_time(when, into=data)
                restored_url = backups.start_scratch(data)
                with psycopg2.connect(restored_url) as conn, conn.cursor() as cur:
                    cur.execute("SELECT count(*) FROM housing WHERE id = ANY(%s)",
                                (load.created,))
                    in_restore = cur.fetchone()[0]
                    cur.execute("SELECT count(*) FROM housing")
                    all_restored = cur.fetchone()[0]
            report["pitr"] = {"seconds": round(time.monotonic() - started, 2),
                              "acknowledged_houses_present": in_restore, "of": len(load.created),
                              "houses": all_restored, "houses_in_source": houses_now}
        except BackupError as err:
            report["pitr"] = {"error": err.message_en}

        gaps = [(t0 + e["at_s"], t0 + e["at_s"] + (e.get("recovered_after_s") or 0) + 1)
                for name, e in events.items() if name in ("restart", "crash")]
        routes: dict[str, list[float]] = defaultdict(list)
        per_minute: dict[int, list[float]] = defaultdict(list)
        errors_outside = 0
        failed: dict[str, int] = defaultdict(int)
        statuses: dict[str, int] = defaultdict(int)
        for t, route, status, took in load.samples:
            statuses[str(status)] += 1
            if status == 0 or status >= 500:
                failed[f"{route} {status}"] += 1
                errors_outside += not any(a <= t <= b for a, b in gaps)
            if 0 < status < 500:
                routes[route].append(took)
                per_minute[int((t - t0) // 60)].append(took)
        report.update({
            "requests": len(load.samples), "statuses": dict(statuses),
            "errors_outside_planned_gaps": errors_outside, "failed_by_route": dict(failed),
            "writes": {"houses_acknowledged": len(load.created), "houses_present": houses,
                       "field_acknowledged": len(load.submitted), "field_present": edits,
                       "lost": len(load.created) - houses + len(load.submitted) - edits},
            "routes": {r: {"n": len(v), "p50_ms": round(statistics.median(v) * 1000, 1),
                           "p99_ms": round(_pct(v, 0.99) * 1000, 1)} for r, v in routes.items()},
            "per_minute_p99_ms": {m: round(_pct(v, 0.99) * 1000, 1)
                                  for m, v in sorted(per_minute.items())},
            "memory_kb": memory, "events": events,
        })
    finally:
        if server is not None:
            stop(server)
            (ROOT / "var" / "soak").mkdir(parents=True, exist_ok=True)
            shutil.copy(tmp / "server.log", ROOT / "var" / "soak" / "server.log")
        try:
            embedded.stop(root)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return report


def main() -> None:
    """Command line of ``make soak``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=float(os.environ.get("SOAK_MINUTES", 10)))
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--scale", type=float, default=0.2)
    args = parser.parse_args()
    report = run(args.minutes, args.clients, args.scale)
    out = ROOT / "var" / "soak"
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1))
    print(json.dumps({k: v for k, v in report.items() if k not in ("memory_kb",)},
                     ensure_ascii=False, indent=1))
    mem = report["memory_kb"]
    print(f"memory (kB RSS): start {mem[0][1]}, max {max(m for _, m in mem)}, end {mem[-1][1]}")


if __name__ == "__main__":
    main()
