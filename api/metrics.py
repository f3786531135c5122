"""Prometheus metrics: requests and latency per route template, jobs, the database pool.

With several web workers (``ioc serve --workers N``) each process writes its samples under
``PROMETHEUS_MULTIPROC_DIR`` (set by ``ioc serve`` before the workers start) and ``/metrics``
adds them up, whichever worker answers.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy.engine import Engine
from starlette.routing import Mount

from gis_core import db
from jobs import status as job_status

REQUESTS = Counter("ioc_http_requests", "HTTP requests answered, by route template, method and "
                   "status class", ["route", "method", "status"])
LATENCY = Histogram("ioc_http_request_seconds", "Time to answer, by route template",
                    ["route", "method"],
                    buckets=(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30))
POOL_IN_USE = Gauge("ioc_db_pool_connections_in_use", "Database connections taken from the "
                    "web workers' pools", multiprocess_mode="livesum")
POOL_SIZE = Gauge("ioc_db_pool_size", "Connections each web worker keeps",
                  multiprocess_mode="max")
db.POOL_LISTENERS.append(POOL_IN_USE.inc)  # +1 on checkout, -1 on checkin

# Paths under mounted applications (pygeoapi, static files), reduced to a bounded set of templates.
_MOUNTED = [(re.compile(p), t) for p, t in (
    (r"^/ogc/collections/[^/]+/items/[^/]+$", "/ogc/collections/{collectionId}/items/{featureId}"),
    (r"^/ogc/collections/[^/]+/items$", "/ogc/collections/{collectionId}/items"),
    (r"^/ogc/collections/[^/]+/tiles/.*$", "/ogc/collections/{collectionId}/tiles/…"),
    (r"^/ogc/collections/[^/]+/[^/]+$", "/ogc/collections/{collectionId}/{resource}"),
    (r"^/ogc/collections/[^/]+$", "/ogc/collections/{collectionId}"),
    (r"^/ogc/processes/.*$", "/ogc/processes/…"),
    (r"^/ogc/tiles/.*$", "/ogc/tiles/…"),
    (r"^/ogc(/[a-zA-Z]*)?$", "/ogc/{resource}"),
    (r"^/static/.*$", "/static/…"),
)]


def route_template(scope: dict[str, Any]) -> str:
    """The template of the route that answered (``/tiles/{layer}/{z}/{x}/{y}.mvt``); paths of
    mounted applications by pattern; anything else ``other`` (no unbounded label values)."""
    route = scope.get("route")
    if route is not None and not isinstance(route, Mount):
        return getattr(route, "path", "other")
    full = scope.get("path", "")
    return next((template for pattern, template in _MOUNTED if pattern.match(full)), "other")


class JobCollector:
    """The queue's jobs by state, read from the database at each scrape."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """One gauge family: ``ioc_jobs{status=…}``."""
        family = GaugeMetricFamily("ioc_jobs", "Background jobs by state", labels=["status"])
        try:
            counts = job_status.counts(self.engine)
        except Exception:  # noqa: BLE001 - a scrape without the database still shows the rest
            counts = {}
        for state, n in counts.items():
            family.add_metric([state], n)
        yield family


def exposition(engine: Engine) -> tuple[bytes, str]:
    """The metrics page and its content type."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        for metric in (REQUESTS, LATENCY, POOL_IN_USE, POOL_SIZE):
            registry.register(metric)
    registry.register(JobCollector(engine))
    return generate_latest(registry), CONTENT_TYPE_LATEST
