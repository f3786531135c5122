"""What routes ask FastAPI for: the caller (``Caller``), a cursor to read with (``Db``) and a
cursor whose work is committed when the route returns (``Tx``).

    @router.post("/things")
    def add(thing: Thing, cursor: Tx, caller: Caller) -> dict: ...

Both cursors are closed when the route function returns, before the response is sent; ``Tx``
commits then, so a 2xx means the write is in the database, and an error rolls it back. Use
them in ``def`` routes (FastAPI runs those in its thread pool); ``async`` routes that reach the
database do so through ``run_in_threadpool``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Request

from api.auth import current_principal
from gis_core.db import raw_cursor, transaction
from governance.access import Principal


def _read_cursor(request: Request) -> Iterator[Any]:
    with raw_cursor(request.app.state.engine) as cursor:
        yield cursor


def _write_cursor(request: Request) -> Iterator[Any]:
    with transaction(request.app.state.engine) as cursor:
        yield cursor


Db = Annotated[Any, Depends(_read_cursor, scope="function")]
Tx = Annotated[Any, Depends(_write_cursor, scope="function")]
Caller = Annotated[Principal, Depends(current_principal)]
