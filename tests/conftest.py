"""Shared fixtures: a fresh PostGIS database per session, migrated and loaded with samples.

The database server comes from ``IOC_TEST_ADMIN_URL`` (default: the local PostgreSQL on
127.0.0.1:5432). Without a reachable server the database tests skip, except under ``CI=true``,
where a missing database is a failure.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg2
import pytest
from psycopg2 import sql

SCALE = float(os.environ.get("IOC_TEST_SCALE", "0.2"))
# The suite starts many apps and servers on one PostgreSQL (100 connections by default): each
# keeps a small fixed pool, not a production worker's 16.
os.environ.setdefault("IOC_POOL_SIZE", "4")
ROOT = Path(__file__).resolve().parents[1]
_ADMIN: list[str] = []


def admin_url() -> str:
    """The server the tests create databases on.

    ``IOC_TEST_ADMIN_URL`` when set; else the local PostgreSQL on 127.0.0.1:5432 when it answers;
    else the embedded cluster under ``var/test-pg`` (started here).
    """
    if not _ADMIN:
        url = os.environ.get("IOC_TEST_ADMIN_URL")
        if url is None:
            url = "postgresql://postgres@127.0.0.1:5432/postgres"
            try:
                psycopg2.connect(url, connect_timeout=3).close()
            except psycopg2.OperationalError:
                from gis_core import embedded

                status = embedded.start(ROOT / "var" / "test-pg")
                url = status.url.rsplit("/", 1)[0] + "/postgres"
        _ADMIN.append(url)
    return _ADMIN[0]


def _admin() -> psycopg2.extensions.connection:
    try:
        conn = psycopg2.connect(admin_url(), connect_timeout=5)
    except Exception as err:  # noqa: BLE001 - any failure to reach a server
        if os.environ.get("CI") == "true":
            pytest.fail(f"no PostgreSQL for the tests: {err}")
        pytest.skip(f"no PostgreSQL for the tests: {err}")
    conn.autocommit = True
    return conn


def url_for(database: str) -> str:
    """The URL of ``database`` on the admin server."""
    return admin_url().rsplit("/", 1)[0] + "/" + database


@pytest.fixture(scope="session")
def empty_database() -> Iterator[str]:
    """A factory-made empty database (with nothing in it), dropped at the end."""
    yield from _fresh_database("ioc_empty")


@pytest.fixture(scope="module")
def unmigrated_database() -> Iterator[str]:
    """A database of its own, never migrated (``empty_database`` may have been by then)."""
    yield from _fresh_database("ioc_bare")


def _fresh_database(prefix: str) -> Iterator[str]:
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = _admin()
    with admin.cursor() as cur:
        cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield url_for(name)
    finally:
        from gis_core.db import dispose_engines

        dispose_engines()
        with admin.cursor() as cur:
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))
        admin.close()


def loaded_database(prefix: str, scale: float = SCALE) -> Iterator[str]:
    """A fresh database migrated through the real migrations and loaded with the samples."""
    for url in _fresh_database(prefix):
        from api.cli import load_samples, migrate

        migrate(url)
        load_samples(url, scale)
        yield url


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """The session's database: migrated and loaded with the samples."""
    yield from loaded_database("ioc_test")


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    """Settings pointing at the test database and a private runtime folder."""
    from gis_core.settings import Settings

    # The whole suite calls from one address: the rate limits are tested on their own.
    return Settings(database_url=database_url, var_dir=tmp_path_factory.mktemp("var"),
                    port=_free_port(), anonymous_runs_per_minute=1_000_000,
                    sign_ins_per_minute=1_000_000, feedback_posts_per_minute=1_000_000)


@pytest.fixture(scope="session")
def app(settings):  # noqa: ANN001, ANN201
    """The application, built once per session."""
    from api.app import create_app

    return create_app(settings)


@pytest.fixture(scope="session")
def client(app):  # noqa: ANN001, ANN201
    """An HTTP client speaking to the application in-process."""
    from fastapi.testclient import TestClient

    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def live_url(app, settings) -> Iterator[str]:  # noqa: ANN001
    """The application served by uvicorn on a loopback port, for real HTTP clients (GDAL)."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=settings.port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield settings.base_url
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    """The repository's sample data folder."""
    return ROOT / "data_samples"


@contextmanager
def serving(database_url: str, var_dir: Path, workers: int = 1, **settings: object) -> Iterator[str]:
    """The platform served by a uvicorn process of its own on ``database_url``: a worker apart
    from the tests' in-process app (pygeoapi keeps its configuration per process, so a second
    app on another database, or with other settings, must live in another process).

    ``settings`` become ``IOC_*`` variables (``anonymous_runs_per_minute=5``); ``workers``
    uvicorn's worker processes. Yields its URL;
    the process is stopped (its lifespan shutdown runs) on leaving.
    """
    import httpx

    port = _free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "IOC_VAR_DIR": str(var_dir),
           "IOC_PORT": str(port), "IOC_LOG_LEVEL": "WARNING",
           **{f"IOC_{name.upper()}": str(value) for name, value in settings.items()}}
    log = var_dir / f"uvicorn-{port}.log"
    var_dir.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "api.app:create_app_from_env", "--factory",
             "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
             "--workers", str(workers)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                httpx.get(f"{url}/api/v1/layers/communes", timeout=5)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"uvicorn did not start: {log.read_text()[-2000:]}") from None
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


STAFF_PASSWORD = "Lai-Chau-2026-staff"


@pytest.fixture(scope="session")
def staff(database_url, app):  # noqa: ANN001, ANN201
    """``staff(role, department=None)``: sign-in headers of an account of that role, made once."""
    from fastapi.testclient import TestClient

    from gis_core.db import engine_for
    from governance import accounts

    client = TestClient(app)

    made: dict[tuple[str, str | None], dict[str, str]] = {}

    def headers(role: str, department: str | None = None) -> dict[str, str]:
        if (role, department) not in made:
            name = f"t_{role}_{department or 'all'}".replace("_", "-")
            with engine_for(database_url).begin() as conn:
                if name not in {a["username"] for a in accounts.list_accounts(conn)}:
                    accounts.create_account(conn, username=name, role=role,
                                            password=STAFF_PASSWORD, department=department)
            response = client.post("/api/v1/auth/token",
                                   json={"username": name, "password": STAFF_PASSWORD})
            assert response.status_code == 200, response.text
            made[role, department] = {"Authorization": f"Bearer {response.json()['access_token']}"}
        return made[role, department]

    return headers


@pytest.fixture(scope="session")
def reader(database_url) -> dict[str, str]:  # noqa: ANN001
    """Headers of a system client with no scopes: it sees features, public fields only."""
    from gis_core.db import engine_for
    from governance import accounts

    with engine_for(database_url).begin() as conn:
        _, key = accounts.create_api_client(conn, username="t-reader", scopes=())
    return {"X-API-Key": key}


@contextmanager
def worker_process(database_url: str, var_dir: Path, **settings: object) -> Iterator[subprocess.Popen]:
    """A background-job worker (``ioc worker``) of its own process on ``database_url``;
    ``settings`` become ``IOC_*`` variables. Stopped (SIGTERM) on leaving."""
    env = {**os.environ, "DATABASE_URL": database_url, "IOC_VAR_DIR": str(var_dir),
           "IOC_LOG_LEVEL": "WARNING",
           **{f"IOC_{name.upper()}": str(value) for name, value in settings.items()}}
    var_dir.mkdir(parents=True, exist_ok=True)
    with open(var_dir / f"worker-{uuid.uuid4().hex[:6]}.log", "wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "api.cli", "worker"], cwd=ROOT,
                                   env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(scope="session")
def job_worker(database_url, tmp_path_factory):  # noqa: ANN001, ANN201
    """One worker process running the session database's jobs."""
    with worker_process(database_url, tmp_path_factory.mktemp("worker")) as process:
        yield process


class Settled:
    """What a queued request's job came to, read like the answer the request once gave."""

    def __init__(self, status_code: int, body: dict, headers: dict[str, str], job: dict):
        import httpx

        self.status_code, self.body, self.job = status_code, body, job
        self.headers = httpx.Headers(headers)

    def json(self) -> dict:
        import json

        return json.loads(self.text)

    @property
    def text(self) -> str:
        import json

        return json.dumps(self.body, ensure_ascii=False)


def wait_for_job(get, response, headers=None, timeout: float = 180) -> Settled:  # noqa: ANN001
    """Poll the progress URL of a 202 ``response`` with ``get`` (a client's ``get``) until its job
    ends; its outcome as a ``Settled`` answer. Answers that are not a queued job pass through."""
    from urllib.parse import urlsplit

    url = urlsplit(response.headers.get("location", "")).path
    if response.status_code != 202 or not url.startswith("/api/v1/jobs/"):
        return response
    deadline = time.monotonic() + timeout
    while True:
        job = get(url, headers=headers or {}).json()
        if job["status"] in ("succeeded", "failed", "cancelled"):
            break
        if time.monotonic() > deadline:
            raise AssertionError(f"job {url} still {job['status']} ({job['stage']})")
        time.sleep(0.1)
    result = job["result"] or {}
    body = result.get("body") or result.get("problem") or {"job_status": job["status"]}
    status = result.get("http_status", 500)
    headers = {"content-type": "application/problem+json" if "problem" in result
               else "application/json"}
    if "location" in result:
        headers["location"] = result["location"]
    return Settled(status, body, headers, job)


@pytest.fixture(scope="session")
def settle(job_worker, client):  # noqa: ANN001, ANN201
    """``settle(response, headers)``: the outcome of a queued import, read like its old answer."""
    def settled(response, headers=None):  # noqa: ANN001, ANN202
        return wait_for_job(client.get, response, headers)

    return settled


CHROMIUM = Path(os.environ.get("IOC_CHROMIUM", "/usr/bin/chromium"))


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One headless Chromium for the session."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed")
    if not CHROMIUM.exists():
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                              args=["--no-sandbox", "--disable-gpu"])
        yield chromium
        chromium.close()
