"""Report tests: generated over HTTP by accounts of the roles that read them."""

from __future__ import annotations

import psycopg2
import pytest


@pytest.fixture(scope="package", autouse=True)
def restore_samples(database_url):
    """The edits these tests make to the housing layer are undone by reloading the samples."""
    yield
    from api.cli import load_samples
    from tests.conftest import SCALE

    load_samples(database_url, SCALE)


@pytest.fixture()
def db(database_url):
    """A psycopg2 connection to the session database (autocommit)."""
    conn = psycopg2.connect(database_url)
    conn.autocommit = True
    yield conn
    conn.close()


@pytest.fixture(scope="session")
def leader(staff):
    return staff("leader")


def generate(client, headers, report_id, period, fmt, **extra):
    """Generate over HTTP; the run and the downloaded file's bytes."""
    response = client.post(f"/api/v1/reports/{report_id}/generate", headers=headers,
                           json={"period": period, "format": fmt, **extra})
    assert response.status_code == 201, response.text
    run = response.json()
    download = client.get(run["links"]["file"], headers=headers)
    assert download.status_code == 200, download.text
    assert download.headers["x-content-sha256"] == run["file_sha256"]
    return run, download.content
