"""The sample data read with geopandas, for computations independent of the engine's SQL."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from pyproj import Geod
from sqlalchemy import create_engine

from gis_core.db import raw_cursor, to_sqlalchemy_url

GEOD = Geod(ellps="WGS84")


@pytest.fixture(scope="session")
def frames(database_url):
    """Layers as GeoDataFrames (only what the independent computations need)."""
    engine = create_engine(to_sqlalchemy_url(database_url))
    queries = {
        "housing": "SELECT id, geom, members, poverty_status, house_type, commune_code FROM housing",
        "health": "SELECT id, geom, commune_code FROM health_facilities",
        "schools": "SELECT id, geom, capacity, students, building_type, commune_code FROM schools",
        "roads": "SELECT id, geom, surface, road_class, commune_code FROM roads",
        "communes": "SELECT code, name, geom FROM communes",
    }
    out = {k: gpd.read_postgis(q, engine, geom_col="geom") for k, q in queries.items()}
    engine.dispose()
    return out


@pytest.fixture()
def cursor(database_url):
    """A cursor on the test database (its connection returns to the pool afterwards)."""
    from gis_core.db import engine_for

    with raw_cursor(engine_for(database_url)) as cur:
        yield cur


def geodesic_m(lon: float, lat: float, points: gpd.GeoSeries) -> np.ndarray:
    """Geodesic distances (m, WGS 84 ellipsoid) from a point to each point of ``points``."""
    xs, ys = points.x.to_numpy(), points.y.to_numpy()
    _, _, dist = GEOD.inv(np.full(len(xs), lon), np.full(len(xs), lat), xs, ys)
    return dist
