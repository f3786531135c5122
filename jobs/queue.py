"""The job queue: procrastinate on the platform's own PostgreSQL, in the ``procrastinate`` schema.

A domain declares its jobs on its own blueprint, once, at import time::

    from jobs.queue import declare

    tasks = declare("reports")

    @tasks.task(name="daily", queueing_lock="reports.daily")
    def daily(timestamp: int) -> None: ...          # a periodic task receives its tick

    tasks.periodic(cron="0 6 * * *")(daily)           # every day at 06:00 (server time)

The worker (``ioc worker``) imports the composition root, so every declared blueprint is part of
the app it builds; web processes open it with ``app_for(url)`` before deferring.
"""

from __future__ import annotations

from typing import Any

import procrastinate
from procrastinate.retry import RetryStrategy

from gis_core.errors import DatabaseUnavailableError

SCHEMA = "procrastinate"
_BLUEPRINTS: dict[str, procrastinate.Blueprint] = {}
_APP: dict[str, Any] = {}

# Retries are for transient failures only: the database went away (restart, failover) or a
# connection broke. A rejected file or a bug is a result, never retried.
TRANSIENT = RetryStrategy(max_attempts=5, exponential_wait=2, retry_exceptions={
    DatabaseUnavailableError, ConnectionError, TimeoutError})


def declare(namespace: str) -> procrastinate.Blueprint:
    """The blueprint a domain declares its tasks (and periodic tasks) on; task names become
    ``namespace:name``."""
    return _BLUEPRINTS.setdefault(namespace, procrastinate.Blueprint())


def conninfo(url: str) -> str:
    """A libpq URL from the platform's database URL (any SQLAlchemy driver suffix dropped)."""
    scheme, _, rest = url.partition("://")
    return "postgresql://" + rest if scheme.startswith("postgres") else url


def _connector(url: str, max_size: int) -> procrastinate.PsycopgConnector:
    return procrastinate.PsycopgConnector(
        conninfo=conninfo(url), min_size=1, max_size=max_size,
        kwargs={"options": f"-c search_path={SCHEMA}", "application_name": "laichau-ioc-jobs"})


def app_for(url: str, *, max_size: int = 4, opened: bool = True) -> procrastinate.App:
    """This process's app (one: tasks are bound to it) on database ``url``.

    Built with every blueprint declared so far on first use; ``opened`` opens it synchronously,
    for deferring from web requests and commands (a worker opens it itself, asynchronously).
    """
    app = _APP.get("app")
    if app is None:
        app = procrastinate.App(connector=_connector(url, max_size))
        for namespace, blueprint in _BLUEPRINTS.items():
            app.add_tasks_from(blueprint, namespace=namespace)
        _APP.update(app=app, url=url)
    elif _APP.get("url") != url:
        close()
        app.connector = app.job_manager.connector = _connector(url, max_size)
        _APP["url"] = url
    if opened and not _APP.get("open"):
        app.open()
        _APP["open"] = True
    return app


def close() -> None:
    """Close this process's app if it was opened for deferring (at shutdown)."""
    app = _APP.get("app")
    if app is not None and _APP.pop("open", False):
        app.close()
