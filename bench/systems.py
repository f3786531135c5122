"""The three systems under test and how to run each: ours, stock pygeoapi, tipg.

All three serve the same tables of the bench database, with the same number of uvicorn workers,
uvloop and httptools, and uvicorn's default logging (access log on). The peers publish only the
layers' public fields, as ours does, so the three answer with the same properties.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from contextlib import closing
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg2
import yaml
from psycopg2 import sql

from bench.config import HOST, ROOT, VAR, VENV_BIN
from bench.servers import ServerSpec, clean_env

PEER_LAYERS = ("housing", "land_parcels", "communes")
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
TIPG_VENV = VAR / "tipg-venv"
UVICORN_FLAGS = ("--loop", "uvloop", "--http", "httptools")


def public_fields(layer_id: str) -> list[str]:
    """The public properties of a layer (what our API serves)."""
    from layers.registry import get_layer

    layer = get_layer(layer_id)
    if layer is None:
        raise KeyError(layer_id)
    return [f.name for f in layer.public_fields]


def ours(url: str, port: int, workers: int, *, name: str = "ours", cache_mb: str = "64") -> ServerSpec:
    """``ioc serve`` on the bench database."""
    var_dir = VAR / name
    env = clean_env(DATABASE_URL=url, IOC_PORT=str(port), IOC_WORKERS=str(workers),
                    IOC_VAR_DIR=str(var_dir), IOC_HOST=HOST,
                    IOC_TILE_CACHE_MB=os.environ.get("BENCH_TILE_CACHE_MB", cache_mb))
    return ServerSpec(name, [str(VENV_BIN / "ioc"), "serve"], env, port,
                      "/ogc/collections/housing?f=json", ROOT, var_dir / "server.log")


def ours_uncached(url: str, port: int, workers: int) -> ServerSpec:
    """``ioc serve`` with the tile cache off: every tile drawn by PostGIS on every request."""
    return ours(url, port, workers, name="ours_uncached", cache_mb="0")


# ------------------------------------------------------------------------------------------ pygeoapi

def _connection(url: str) -> dict[str, Any]:
    """pygeoapi's ``data`` block for a PostgreSQL URL."""
    parts = urlsplit(url)
    data: dict[str, Any] = {"host": parts.hostname or HOST, "port": parts.port or 5432,
                            "dbname": parts.path.lstrip("/"), "user": parts.username or "postgres",
                            "search_path": ["public"]}
    if parts.password:
        data["password"] = parts.password
    return data


def _extents(url: str) -> dict[str, list[float]]:
    extents = {}
    with closing(psycopg2.connect(url)) as conn, conn.cursor() as cur:
        for table in PEER_LAYERS:
            cur.execute(sql.SQL("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                                "(SELECT ST_Extent(geom) AS e FROM {}) s").format(sql.Identifier(table)))
            extents[table] = [round(v, 6) for v in cur.fetchone()]
    return extents


def _mvt_provider(data: dict[str, Any], table: str) -> dict[str, Any]:
    return {
        "type": "tile", "name": "MVT-postgresql", "data": data, "id_field": "id", "table": table,
        "geom_field": "geom", "storage_crs": CRS84,
        # No "schemes" list in options: the SQL provider hands every non-dict option to its
        # cached engine factory, and a list there is unhashable (TypeError at startup).
        "options": {"zoom": {"min": 0, "max": 22}},
        "format": {"name": "pbf", "mimetype": "application/vnd.mapbox-vector-tile"},
    }


def _pygeoapi_resource(data: dict[str, Any], table: str, bbox: list[float]) -> dict[str, Any]:
    from gis_core.crs import supported_uris

    providers: list[dict[str, Any]] = [{
        "type": "feature", "name": "PostgreSQL", "data": data, "id_field": "id", "table": table,
        "geom_field": "geom", "storage_crs": CRS84, "crs": supported_uris(),
        "properties": public_fields(table),
    }]
    if table == "housing":
        providers.append(_mvt_provider(data, table))
    return {
        "type": "collection", "title": table, "description": f"{table} (bench)", "keywords": [table],
        "links": [], "extents": {"spatial": {"bbox": bbox, "crs": CRS84}}, "providers": providers,
    }


def pygeoapi_config(url: str, port: int) -> dict[str, Any]:
    """A stock pygeoapi configuration for the bench tables with its PostgreSQL provider."""
    data = _connection(url)
    base = f"http://{HOST}:{port}"
    return {
        "server": {
            "bind": {"host": HOST, "port": port}, "url": base,
            "mimetype": "application/json; charset=UTF-8", "encoding": "utf-8",
            "languages": ["en-US"], "pretty_print": False,
            "limits": {"default_items": 10, "max_items": 10000, "on_exceed": "throttle"},
            "map": {"url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png", "attribution": "OSM"},
        },
        "logging": {"level": "ERROR"},
        "metadata": {
            "identification": {"title": "ioc bench", "description": "ioc bench", "keywords": ["bench"],
                               "keywords_type": "theme", "terms_of_service": base, "url": base},
            "license": {"name": "MIT", "url": "https://opensource.org/licenses/MIT"},
            "provider": {"name": "bench", "url": base},
            "contact": {"name": "bench", "position": "bench", "address": "-", "city": "-",
                        "stateorprovince": "-", "postalcode": "-", "country": "-",
                        "email": "bench@example.org", "url": base, "role": "pointOfContact"},
        },
        "resources": {table: _pygeoapi_resource(data, table, bbox)
                      for table, bbox in _extents(url).items()},
    }


def pygeoapi(url: str, port: int, workers: int) -> ServerSpec:
    """Stock pygeoapi (our venv's package) under uvicorn, config and OpenAPI under var/bench."""
    folder = VAR / "pygeoapi"
    folder.mkdir(parents=True, exist_ok=True)
    config, openapi = folder / "pygeoapi-config.yml", folder / "pygeoapi-openapi.yml"
    config.write_text(yaml.safe_dump(pygeoapi_config(url, port), sort_keys=False), encoding="utf-8")
    env = clean_env(PYGEOAPI_CONFIG=str(config), PYGEOAPI_OPENAPI=str(openapi))
    subprocess.run([str(VENV_BIN / "pygeoapi"), "openapi", "generate", str(config),  # noqa: S603
                    "--output-file", str(openapi)], env=env, cwd=folder, check=True,
                   capture_output=True, timeout=300)
    argv = [str(VENV_BIN / "uvicorn"), "pygeoapi.starlette_app:APP", "--host", HOST,
            "--port", str(port), "--workers", str(workers), *UVICORN_FLAGS]
    return ServerSpec("pygeoapi", argv, env, port, "/collections/housing?f=json", folder,
                      folder / "server.log")


# ------------------------------------------------------------------------------------------ tipg

def _tipg_ready(venv: Path) -> bool:
    python = venv / "bin" / "python"
    if not python.exists():
        return False
    check = subprocess.run([str(python), "-c", "import tipg, uvloop, httptools"],  # noqa: S603
                           capture_output=True, timeout=120)
    return check.returncode == 0


def ensure_tipg_venv(venv: Path = TIPG_VENV) -> Path:
    """tipg (latest from PyPI) with ``uvicorn[standard]`` in its own venv, created on demand."""
    if _tipg_ready(venv):
        return venv
    print(f"· installing tipg into {venv} …", flush=True)
    subprocess.run(["python3", "-m", "venv", str(venv)], check=True, timeout=300)  # noqa: S607
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--upgrade", "pip"],  # noqa: S603
                   check=True, timeout=600)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "tipg", "uvicorn[standard]"],  # noqa: S603
                   check=True, timeout=900)
    return venv


def tipg_version(venv: Path = TIPG_VENV) -> str:
    """The installed tipg version."""
    out = subprocess.run([str(venv / "bin" / "python"), "-c",  # noqa: S603
                          "import importlib.metadata as m; print(m.version('tipg'))"],
                         capture_output=True, text=True, timeout=60)
    return out.stdout.strip() or "?"


def tipg(url: str, port: int, workers: int) -> ServerSpec:
    """tipg under uvicorn, publishing the public schema with the layers' public fields."""
    venv = ensure_tipg_venv()
    folder = VAR / "tipg"  # its own working folder: tipg reads a .env file from there
    # TIPG_CATALOG_TTL=0: no periodic catalog refresh. By default, once 300 s have passed, every
    # request starts one (extents over 215,000 rows) until one has finished, which sank whichever
    # cell ran about five minutes after start (CQL2 spatial: ~35-68 → 3 req/s). Neither ours nor
    # pygeoapi re-reads its catalog while serving.
    env = clean_env(DATABASE_URL=url, TIPG_DB_SCHEMAS='["public"]', TIPG_CATALOG_TTL="0",
                    TIPG_DB_TABLES=json.dumps([f"public.{t}" for t in PEER_LAYERS]))
    for table in PEER_LAYERS:
        env[f"TIPG_TABLE_CONFIG__public_{table}__properties"] = json.dumps(public_fields(table))
        env[f"TIPG_TABLE_CONFIG__public_{table}__pk"] = "id"
        env[f"TIPG_TABLE_CONFIG__public_{table}__geomcol"] = "geom"
    argv = [str(venv / "bin" / "uvicorn"), "tipg.main:app", "--host", HOST, "--port", str(port),
            "--workers", str(workers), *UVICORN_FLAGS]
    return ServerSpec("tipg", argv, env, port, "/collections/public.housing?f=json", folder,
                      folder / "server.log")


BUILDERS = {"ours": ours, "ours_uncached": ours_uncached, "pygeoapi": pygeoapi, "tipg": tipg}


def package_version(name: str) -> str:
    """Version of a package installed in our venv."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "?"


def python_version() -> str:
    """The running Python's version."""
    return sys.version.split()[0]
