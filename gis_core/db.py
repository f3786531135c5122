"""Engine and pool, one query runner, and the translation of driver errors into domain errors."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import psycopg2.errors
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError, StatementError

from gis_core.errors import (
    DatabaseUnavailableError,
    InvalidParameterError,
    IocError,
    QueryTimeoutError,
)

_ENGINES: dict[tuple[str, int, int], Engine] = {}


def to_sqlalchemy_url(url: str) -> str:
    """Point a plain ``postgresql://`` URL at the psycopg2 driver.

    A libpq multi-host URL (``postgresql://u@h1:5432,h2:5432/db?target_session_attrs=read-write``,
    a primary and its standbys) becomes SQLAlchemy's ``?host=h1:5432&host=h2:5432`` form: libpq
    then connects to whichever host is the primary, also after a failover.
    """
    for prefix in ("postgresql+psycopg2://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            rest = url[len(prefix):]
            authority, _, tail = rest.partition("/")
            userinfo, at, hosts = authority.rpartition("@")
            if "," in hosts:
                path, _, query = tail.partition("?")
                params = "&".join(f"host={h}" for h in hosts.split(","))
                rest = f"{userinfo}{at}/{path}?{params}" + (f"&{query}" if query else "")
            return "postgresql+psycopg2://" + rest
    return url


def engine_for(url: str, *, statement_timeout_ms: int = 15_000, pool_size: int = 8) -> Engine:
    """Return the shared engine for ``url``: one pool per URL per process."""
    key = (url, statement_timeout_ms, pool_size)
    engine = _ENGINES.get(key)
    if engine is None:
        engine = create_engine(
            to_sqlalchemy_url(url),
            pool_size=pool_size,
            max_overflow=pool_size,
            # No pre-ping: it costs a round trip per request; a dead connection fails one
            # request (503) and is replaced.
            pool_pre_ping=False,
            pool_recycle=3600,
            connect_args={
                # JIT compiles for 100+ ms whenever PostGIS's function costs inflate an
                # estimate (every tile query): far more than these short queries run.
                "options": f"-c statement_timeout={statement_timeout_ms} -c jit=off",
                "application_name": "laichau-ioc",
            },
        )
        _ENGINES[key] = engine
    return engine


def dispose_engines() -> None:
    """Close every pooled connection (at shutdown, or after a fork)."""
    for engine in _ENGINES.values():
        engine.dispose()
    _ENGINES.clear()


def domain_error(err: BaseException) -> IocError | None:
    """The domain error a driver error stands for, or None when it is not one we can name.

    Works for SQLAlchemy's wrapped errors and for psycopg2's own (raw cursors on hot paths).
    """
    orig = err.orig if isinstance(err, StatementError) else err
    if isinstance(orig, ValueError) and "NUL (0x00)" in str(orig):
        # psycopg2 refuses NUL in text before sending it: the value came from the client.
        return InvalidParameterError(
            "Văn bản gửi lên không được chứa ký tự NUL (\\0, %00); hãy bỏ ký tự đó rồi gửi lại.",
            message_en="Text sent must not contain NUL characters (\\0, %00); remove them and "
            "send it again.")
    if isinstance(orig, psycopg2.errors.QueryCanceled):
        return QueryTimeoutError(
            "Truy vấn quá thời gian cho phép; hãy thu hẹp phạm vi (bbox, filter, limit).",
            message_en="The query took too long; narrow it (bbox, filter, limit).")
    if isinstance(orig, psycopg2.DataError):
        return InvalidParameterError(
            "Giá trị không hợp lệ cho kiểu dữ liệu của trường.",
            message_en="A value does not fit the field's data type.")
    if isinstance(orig, psycopg2.OperationalError | psycopg2.InterfaceError) or isinstance(
            err, OperationalError):
        return DatabaseUnavailableError(
            "Không kết nối được cơ sở dữ liệu; kiểm tra DATABASE_URL và máy chủ PostgreSQL.",
            message_en="The database cannot be reached; check DATABASE_URL and the server.")
    return None


@contextmanager
def translate_db_errors() -> Iterator[None]:
    """Turn driver errors into domain errors; the driver's text never reaches a client."""
    try:
        yield
    except IocError:
        raise
    except (StatementError, psycopg2.Error, ValueError) as err:
        translated = domain_error(err)
        if translated is None:
            raise
        raise translated from err


@contextmanager
def raw_cursor(engine: Engine) -> Iterator[Any]:
    """A psycopg2 cursor on a pooled connection, for hot paths that pass SQL results through.

    Driver errors are translated; the connection returns to the pool afterwards.
    """
    with translate_db_errors():
        raw = engine.raw_connection()
        try:
            with raw.cursor() as cursor:
                yield cursor
        finally:
            raw.close()


def fetch(conn: Connection, sql: Any, params: Mapping[str, Any] | None = None) -> list[Any]:
    """Run one query and return its rows, with driver errors translated."""
    statement = text(sql) if isinstance(sql, str) else sql
    with translate_db_errors():
        return list(conn.execute(statement, dict(params or {})))


def scalar(conn: Connection, sql: Any, params: Mapping[str, Any] | None = None) -> Any:
    """Run one query and return the first column of the first row (or None)."""
    rows = fetch(conn, sql, params)
    return rows[0][0] if rows else None

