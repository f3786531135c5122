"""Check one request (status, features returned) and drive a bounded wrk load against it."""

from __future__ import annotations

import json
import re
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.config import VAR
from bench.endpoints import Request

WRK = "wrk"
WRK_TIMEOUT = "30s"  # a slow answer is a slow answer, not a socket error
_UNITS_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}
_LATENCY = re.compile(r"^\s*(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s|m|h)\s*$", re.MULTILINE)
_RPS = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_TOTAL = re.compile(r"^\s*(\d+) requests in", re.MULTILINE)
_NON2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


@dataclass
class Probe:
    """What one request returned: status, features, their ids, and a first coordinate."""

    status: int
    count: int | None = None
    matched: int | None = None
    ids: list[Any] = field(default_factory=list)
    coords: dict[Any, tuple[float, float]] = field(default_factory=dict)
    size: int = 0
    error: str | None = None

    @property
    def ok(self) -> bool:
        """A 200 (or empty 204) answer that could be read."""
        return self.status in (200, 204) and self.error is None


@dataclass
class WrkResult:
    """Throughput and latency of one wrk run."""

    rps: float
    p50_ms: float | None
    p99_ms: float | None
    requests: int
    non_2xx: int = 0
    socket_errors: int = 0


def _first_xy(geometry: dict[str, Any] | None) -> tuple[float, float] | None:
    coords: Any = (geometry or {}).get("coordinates")
    while isinstance(coords, list) and coords and isinstance(coords[0], list):
        coords = coords[0]
    if isinstance(coords, list) and len(coords) >= 2:
        return float(coords[0]), float(coords[1])
    return None


def _read_features(body: bytes, probe: Probe) -> None:
    doc = json.loads(body)
    features = doc.get("features") if doc.get("type") == "FeatureCollection" else [doc]
    if doc.get("type") not in ("FeatureCollection", "Feature") or features is None:
        probe.error = f"not GeoJSON ({str(doc)[:120]})"
        return
    probe.count = len(features)
    probe.matched = doc.get("numberMatched")
    probe.ids = [f.get("id") for f in features]
    for feature in features:
        if (xy := _first_xy(feature.get("geometry"))) is not None:
            probe.coords[feature.get("id")] = xy


def _read_tile(body: bytes, probe: Probe) -> None:
    import mapbox_vector_tile

    layers = mapbox_vector_tile.decode(body) if body else {}
    probe.count = sum(len(layer["features"]) for layer in layers.values())


# Sent to every system: ours needs a caller to show households (the public sees counts only);
# a system client without scopes sees what the anchors serve, public fields only.
HEADERS: dict[str, str] = {}


def probe(base_url: str, request: Request, timeout: float = 120.0) -> Probe:
    """Send ``request`` once and read what it returned."""
    headers = {"Accept": request.accept, **HEADERS}
    if request.body is not None:
        headers["Content-Type"] = "application/json"
    http = urllib.request.Request(base_url + request.path, data=request.body, headers=headers,
                                  method=request.method)
    try:
        with urllib.request.urlopen(http, timeout=timeout) as response:  # noqa: S310 - loopback URL
            status, body = response.status, response.read()
    except urllib.error.HTTPError as err:
        return Probe(err.code, error=err.read()[:300].decode("utf-8", "replace"))
    except (urllib.error.URLError, OSError) as err:
        return Probe(0, error=str(err))
    result = Probe(status, size=len(body))
    try:
        if request.kind in ("items", "feature") and status == 200:
            _read_features(body, result)
        elif request.kind == "tile" and status in (200, 204):
            _read_tile(body, result)
    except Exception as err:  # noqa: BLE001 - any unreadable body is a finding, not a crash
        result.error = f"unreadable body: {err}"
    return result


def _lua_script(request: Request, name: str) -> Path:
    """A wrk script for a request with a method and body."""
    path = VAR / "wrk" / f"{name}.lua"
    path.parent.mkdir(parents=True, exist_ok=True)
    body = (request.body or b"").decode()
    path.write_text(f'wrk.method = "{request.method}"\nwrk.body = {json.dumps(body)}\n'
                    'wrk.headers["Content-Type"] = "application/json"\n', encoding="utf-8")
    return path


def wrk_command(url: str, request: Request, *, threads: int, connections: int, duration: int,
                latency: bool = True, script: Path | None = None) -> list[str]:
    """The wrk command line for one bounded run."""
    argv = [WRK, f"-t{min(threads, connections)}", f"-c{connections}", f"-d{duration}s",
            "--timeout", WRK_TIMEOUT, "-H", f"Accept: {request.accept}"]
    for name, value in HEADERS.items():
        argv += ["-H", f"{name}: {value}"]
    if latency:
        argv.append("--latency")
    if script is not None:
        argv += ["-s", str(script)]
    return [*argv, url]


def parse_wrk(output: str) -> WrkResult:
    """Requests/s, p50 and p99 (ms) and error counts from wrk's ``--latency`` output."""
    latencies = {m.group(1): float(m.group(2)) * _UNITS_MS[m.group(3)] for m in _LATENCY.finditer(output)}
    rps = _RPS.search(output)
    total = _TOTAL.search(output)
    non2xx = _NON2XX.search(output)
    sockets = _SOCKET.search(output)
    return WrkResult(
        rps=float(rps.group(1)) if rps else 0.0,
        p50_ms=latencies.get("50"), p99_ms=latencies.get("99"),
        requests=int(total.group(1)) if total else 0,
        non_2xx=int(non2xx.group(1)) if non2xx else 0,
        socket_errors=sum(int(v) for v in sockets.groups()) if sockets else 0,
    )


def run_load(base_url: str, request: Request, name: str, *, threads: int, connections: int,
             duration: int, warmup: int) -> WrkResult:
    """A warm-up run (discarded), then the measured run."""
    script = _lua_script(request, name) if request.method != "GET" else None
    url = base_url + request.path
    if warmup > 0:
        subprocess.run(wrk_command(url, request, threads=threads, connections=connections,  # noqa: S603
                                   duration=warmup, latency=False, script=script),
                       capture_output=True, timeout=warmup + 90, check=False)
    out = subprocess.run(wrk_command(url, request, threads=threads, connections=connections,  # noqa: S603
                                     duration=duration, script=script),
                         capture_output=True, text=True, timeout=duration + 90, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"wrk failed ({out.returncode}): {out.stderr.strip() or out.stdout.strip()}")
    return parse_wrk(out.stdout)
