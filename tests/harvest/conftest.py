"""Fixtures of the harvest tests: a database of their own to harvest into, and a small HTTP
server on 127.0.0.1 whose answers each test sets (a department's system, as it changes)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import STAFF_PASSWORD, loaded_database


@pytest.fixture(scope="module")
def target_url() -> Iterator[str]:
    """A database of this module's own (migrated, small samples) that the sources feed."""
    yield from loaded_database("ioc_harvest", scale=0.02)


@pytest.fixture(scope="module")
def engine(target_url):  # noqa: ANN001, ANN201
    """The engine on the target database."""
    from gis_core.db import engine_for

    return engine_for(target_url)


@dataclass
class Answer:
    """What the server answers at one path."""

    body: bytes
    content_type: str = "application/json"
    status: int = 200
    delay: float = 0.0


@dataclass
class Site:
    """The served answers (path → ``Answer``) and the site's URL."""

    url: str = ""
    answers: dict[str, Answer] = field(default_factory=dict)
    server: ThreadingHTTPServer | None = None
    requests: list[str] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)

    def put(self, path: str, body: str | bytes, content_type: str = "application/json",
            status: int = 200, delay: float = 0.0) -> str:
        """Serve ``body`` at ``path``; its URL."""
        data = body.encode() if isinstance(body, str) else body
        self.answers[path] = Answer(data, content_type, status, delay)
        return self.url + path

    def stop(self) -> None:
        """Take the site down: connections are refused from now on."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


@pytest.fixture()
def site() -> Iterator[Site]:
    """A department's web server on a loopback port, stopped at the end."""
    served = Site()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
            served.requests.append(self.path)
            served.headers.append(dict(self.headers))
            answer = served.answers.get(self.path.split("?")[0])
            if answer is None:
                self.send_error(404)
                return
            time.sleep(answer.delay)
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    served.server = server
    served.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield served
    served.stop()


@pytest.fixture(scope="module")
def api(target_url, tmp_path_factory):  # noqa: ANN001, ANN201
    """The platform served on the target database (a process of its own: pygeoapi keeps one
    configuration per process), and the headers of an operator, a leader and an API client
    without scopes."""
    import httpx

    from gis_core.db import engine_for
    from governance import accounts
    from tests.conftest import serving

    with engine_for(target_url).begin() as conn:
        for name, role in (("h-operator", "operator"), ("h-leader", "leader")):
            accounts.create_account(conn, username=name, role=role, password=STAFF_PASSWORD)
        # The construction department's editors: one submits, the other approves.
        for name in ("h-xd-editor", "h-xd-editor2"):
            accounts.create_account(conn, username=name, role="department_editor",
                                    department="so_xay_dung", password=STAFF_PASSWORD)
        _, key = accounts.create_api_client(conn, username="h-reader", scopes=())
    with serving(target_url, tmp_path_factory.mktemp("hvar"), anonymous_runs_per_minute=1_000_000,
                 sign_ins_per_minute=1_000_000, max_document_mb=1) as url, \
            httpx.Client(base_url=url, timeout=120) as client:
        heads = {}
        for name in ("h-operator", "h-leader", "h-xd-editor", "h-xd-editor2"):
            answer = client.post("/api/v1/auth/token",
                                 json={"username": name, "password": STAFF_PASSWORD})
            heads[name] = {"Authorization": f"Bearer {answer.json()['access_token']}"}
        heads["h-reader"] = {"X-API-Key": key}
        yield client, heads
