"""A database of its own for the import tests: migrated, with a small sample of the province."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from tests.conftest import loaded_database


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    from gis_core.db import engine_for

    for url in loaded_database("ioc_import", scale=0.01):
        yield engine_for(url)


def snapshot(engine: Engine, layer: str) -> tuple:
    """Everything an import could touch: the layer's rows and the history."""
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            f"SELECT md5(string_agg(t::text, '|' ORDER BY id)), count(*) FROM {layer} t").one()  # noqa: S608
        history = conn.exec_driver_sql("SELECT count(*), max(id) FROM feature_history").one()
    return tuple(rows), tuple(history)


def commune(engine: Engine) -> tuple[str, float, float]:
    """A commune's code and a point inside it (lon, lat)."""
    with engine.connect() as conn:
        return tuple(conn.exec_driver_sql(
            "SELECT code, ST_X(p), ST_Y(p) FROM (SELECT code, ST_PointOnSurface(geom) p "
            "FROM communes ORDER BY code LIMIT 1) s").one())
