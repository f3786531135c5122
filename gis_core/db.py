"""Engine and pool, one query runner, and the translation of driver errors into domain errors."""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import psycopg2.errors
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError, StatementError

from gis_core.errors import (
    DatabaseUnavailableError,
    InvalidParameterError,
    IocError,
    QueryTimeoutError,
)

_ENGINES: dict[tuple[str, int, int], Engine] = {}
APPLICATION_NAME = "laichau-ioc"
# The id of the HTTP request being served (X-Request-ID): it names the request's connection in
# PostgreSQL (``application_name``), so a slow query in pg_stat_activity or the server log
# leads back to the request and its log lines.
REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("ioc_request_id",
                                                                        default=None)
# Called with +1 when a connection is taken from a pool and -1 when it is given back (metrics).
POOL_LISTENERS: list[Any] = []
# Set by ``read_cursor`` while it takes a connection: the name goes with its first statement.
_NAME_LATER: contextvars.ContextVar[bool] = contextvars.ContextVar("ioc_name_later", default=False)


def _name_connection(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
    """On checkout: the connection's ``application_name`` names the current request."""
    request_id = REQUEST_ID.get()
    name = f"{APPLICATION_NAME} {request_id}" if request_id else APPLICATION_NAME
    if record.info.get("application_name", APPLICATION_NAME) != name and _NAME_LATER.get():
        record.info["pending_name"] = name
    elif record.info.get("application_name", APPLICATION_NAME) != name:
        # Outside a transaction (the pool rolled back on return): one round trip, none left open.
        dbapi_conn.autocommit = True
        try:
            with dbapi_conn.cursor() as cur:
                cur.execute("SELECT set_config('application_name', %s, false)", (name,))
        finally:
            dbapi_conn.autocommit = False
        record.info["application_name"] = name
    for listener in POOL_LISTENERS:
        listener(+1)


def _checked_in(_dbapi_conn: Any, _record: Any) -> None:
    for listener in POOL_LISTENERS:
        listener(-1)


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
    """Return the shared engine for ``url``: one pool per URL per process.

    The pool keeps ``pool_size`` connections and opens no others (no overflow): a connection
    opened mid-load costs a backend start, then PROJ's set-up on its first ``ST_Transform`` and
    the catalogue caches on its first queries, 100 ms on an idle machine and seconds under
    load, which were the tail latencies of the benchmark when overflow connections were opened
    and closed with each burst. A request beyond ``pool_size`` at once waits for a connection.
    """
    key = (url, statement_timeout_ms, pool_size)
    engine = _ENGINES.get(key)
    if engine is None:
        engine = create_engine(
            to_sqlalchemy_url(url),
            pool_size=pool_size,
            max_overflow=0,
            # No pre-ping: it costs a round trip per request; a dead connection fails one
            # request (503) and is replaced. TCP keepalives find dead peers meanwhile.
            pool_pre_ping=False,
            # Kept for the life of the process: recycling would bring the cold start back.
            pool_recycle=-1,
            connect_args={
                # JIT compiles for 100+ ms whenever PostGIS's function costs inflate an
                # estimate (every tile query): far more than these short queries run.
                "options": f"-c statement_timeout={statement_timeout_ms} -c jit=off",
                "application_name": APPLICATION_NAME,
                "keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10,
                "keepalives_count": 3,
            },
        )
        event.listen(engine, "connect", _warm)
        event.listen(engine, "checkout", _name_connection)
        event.listen(engine, "checkin", _checked_in)
        _ENGINES[key] = engine
    return engine


def _warm(dbapi_conn: Any, _record: Any) -> None:
    """A new connection pays PROJ's set-up for the platform's CRSs now, not in a request."""
    try:
        with dbapi_conn.cursor() as cur:
            cur.execute(
                "SELECT ST_Transform(ST_SetSRID(ST_MakePoint(103.4, 22.4), 4326), srid) "
                "FROM spatial_ref_sys WHERE srid IN (3857, 9205, 9208)")
    except psycopg2.Error:
        pass  # no PostGIS yet (a database before its migrations): nothing to warm
    dbapi_conn.rollback()


def open_pool(engine: Engine) -> None:
    """Open every connection of ``engine``'s pool now (at start-up), so none opens under load."""
    held = []
    try:
        for _ in range(engine.pool.size()):
            held.append(engine.raw_connection())
    finally:
        for conn in held:
            conn.close()


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


class _NamingCursor(psycopg2.extensions.cursor):
    """Sends ``prefix`` (the connection's new ``application_name``) with its first statement."""

    prefix: bytes | None = None

    def execute(self, query: Any, vars: Any = None) -> None:  # noqa: A002, D102 - psycopg2's names
        prefix, self.prefix = self.prefix, None
        if prefix is None:
            return super().execute(query, vars)
        return super().execute(prefix + self.mogrify(query, vars))


@contextmanager
def read_cursor(engine: Engine) -> Iterator[Any]:
    """``raw_cursor`` for reads on hot paths: one round trip per query.

    The connection is in autocommit (no ``BEGIN`` before the query, no ``ROLLBACK`` when it
    returns to the pool) and the request's ``application_name`` is sent in the same trip as the
    first query. Nothing written through it is rolled back: read only.
    """
    with translate_db_errors():
        token = _NAME_LATER.set(True)
        try:
            raw = engine.raw_connection()
        finally:
            _NAME_LATER.reset(token)
        try:
            conn = raw.driver_connection
            conn.autocommit = True
            with conn.cursor(cursor_factory=_NamingCursor) as cursor:
                name = raw.info.pop("pending_name", None)
                if name is not None:
                    cursor.prefix = cursor.mogrify(
                        "SELECT set_config('application_name', %s, false); ", (name,))
                    raw.info["application_name"] = name
                yield cursor
        finally:
            try:
                conn.autocommit = False
            except psycopg2.Error:
                pass  # a broken connection: the pool replaces it
            raw.close()


@contextmanager
def transaction(engine: Engine) -> Iterator[Any]:
    """``raw_cursor`` whose work is committed when the block ends, rolled back when it raises.

    Domain code never commits: whoever opens the transaction (a route, a command) owns it.
    """
    with raw_cursor(engine) as cursor:
        yield cursor
        cursor.connection.commit()


def fetch(conn: Connection, sql: Any, params: Mapping[str, Any] | None = None) -> list[Any]:
    """Run one query and return its rows, with driver errors translated."""
    statement = text(sql) if isinstance(sql, str) else sql
    with translate_db_errors():
        return list(conn.execute(statement, dict(params or {})))


def scalar(conn: Connection, sql: Any, params: Mapping[str, Any] | None = None) -> Any:
    """Run one query and return the first column of the first row (or None)."""
    rows = fetch(conn, sql, params)
    return rows[0][0] if rows else None

