"""A database of the sensors' own (alerts open incidents), the local MQTT broker and listeners
on a topic root of each test run, so that runs sharing the broker never see each other."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg2
import pytest

from tests.conftest import loaded_database, serving

MQTT = ("127.0.0.1", 1883)


def _broker_up() -> bool:
    try:
        socket.create_connection(MQTT, timeout=2).close()
        return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def sensors_db() -> Iterator[str]:
    if not _broker_up():
        pytest.skip("no MQTT broker at 127.0.0.1:1883")
    yield from loaded_database("ioc_sensors")


@pytest.fixture
def root() -> str:
    return f"ioc-test-{uuid.uuid4().hex[:8]}/stations"


@pytest.fixture
def conn(sensors_db) -> Iterator[psycopg2.extensions.connection]:
    c = psycopg2.connect(sensors_db)
    c.autocommit = True
    yield c
    c.close()


def scalar(conn, sql: str, params=()) -> object:
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchone()[0]


@pytest.fixture
def listener(sensors_db, root) -> Iterator[Callable[..., object]]:
    """Start listeners (threads) on the test's topic root; all are stopped at the end."""
    from api.cli_iot import _connect, open_incident
    from sensors.mqtt import Listener
    from sensors.store import Store

    started: list[tuple[Listener, threading.Thread]] = []

    def start(client_id: str | None = None, store: Store | None = None) -> Listener:
        x = Listener("mqtt://127.0.0.1:1883", _connect(sensors_db),
                     store or Store(open_incident, root), client_id=client_id)
        t = threading.Thread(target=x.run, daemon=True)
        t.start()
        assert x.ready.wait(10), "listener did not subscribe"
        time.sleep(0.2)  # the SUBACK comes after the CONNACK
        started.append((x, t))
        return x

    yield start
    for x, t in started:
        x.stop()
        t.join(timeout=10)


def wait_for(check: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)


@contextmanager
def live_server(database_url: str, tmp_path) -> Iterator[str]:
    with serving(database_url, tmp_path / "var") as url:
        yield url


def measuring_stations(conn) -> list[tuple[int, str]]:
    with conn.cursor() as cur:
        cur.execute("SELECT id, kind FROM iot_stations WHERE kind <> 'camera' ORDER BY id")
        return cur.fetchall()
