"""``create_app``: the one place where settings, database, OGC API and pages are assembled."""

from __future__ import annotations

import asyncio
import ctypes
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from api import audit_anchor, ogc_processes
from api.auth import Authenticator, CallerContext
from api.errors import install_error_handlers
from api.logs import configure_logging
from api.metrics import POOL_SIZE
from api.observability import Observe
from api.observation_posts import close_publisher
from api.ogc import build_pygeoapi_app, pygeoapi_config
from api.ogc_items import ItemsFastPath
from api.rate_limit import RateLimit
from api.redirects import PublicRedirects
from api.routes import (
    account,
    admin,
    edits,
    export,
    feedback,
    field,
    health,
    history,
    imports,
    incidents,
    indicators,
    jobs,
    observations,
    open311,
    operations,
    opinion,
    pages,
    quality,
    rasters,
    reports,
    scenarios,
    sdmx,
    sensors,
    sta,
    tiles,
)
from api.routes import documents as documents_routes
from api.routes import harvest as harvest_routes
from api.routes import layers as layers_routes
from api.routes import reconcile as reconcile_routes
from api.staff import pages as staff_pages
from api.uploads import BodyLimit
from gis_core.db import dispose_engines, engine_for, open_pool
from gis_core.errors import ConfigurationError
from gis_core.settings import Settings
from governance.credential_cache import CredentialCache
from governance.credential_cache import watch as watch_credentials
from governance.sequencer import Sequencer
from jobs import backups as _backups  # noqa: F401 - scheduled backups and their probe
from jobs import queue as jobs_queue
from tiles.cache import MemoryTileCache, RedisTileCache, TileCache
from tiles.mvt import BUFFER, EXTENT
from tiles.versions import LayerVersions

LOG = logging.getLogger("ioc")
CORS_METHODS = ["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"]
CORS_HEADERS = ["Authorization", "X-API-Key", "X-Reason", "X-Request-ID", "Content-Type",
                "Content-Crs", "If-Match", "If-None-Match", "Accept", "Accept-Language"]
CORS_EXPOSED = ["ETag", "Location", "Content-Location", "Content-Crs", "Allow", "Accept-Patch",
                "Content-Disposition", "X-Feature-Count", "X-Request-ID"]


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the HTTP application for ``settings`` (the database must already be migrated)."""
    settings = settings or Settings()
    database_url = settings.resolved_database_url()
    if not database_url:
        raise ConfigurationError(
            "Chưa cấu hình cơ sở dữ liệu: đặt DATABASE_URL hoặc chạy 'ioc up'.",
            message_en="No database configured: set DATABASE_URL or run 'ioc up'.",
        )
    engine = engine_for(database_url, statement_timeout_ms=settings.statement_timeout_ms,
                        pool_size=settings.pool_size)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(open_pool, engine)
        publishing = asyncio.create_task(audit_anchor.publish_periodically(engine, settings)) \
            if settings.audit_anchor_minutes > 0 else None
        app.state.sequencer.start()
        app.state.layer_versions.start()
        app.state.authenticator.credentials.start()
        if publishing is None:
            await run_in_threadpool(audit_anchor.publish, engine, settings)
        yield
        if publishing is not None:
            publishing.cancel()
        await run_in_threadpool(app.state.sequencer.stop)
        await run_in_threadpool(app.state.layer_versions.stop)
        await run_in_threadpool(app.state.authenticator.credentials.stop)
        try:
            await run_in_threadpool(audit_anchor.publish, engine, settings)
        except Exception:  # noqa: BLE001 - stopping goes on; the last anchor stays
            LOG.exception("could not publish the audit anchor on stopping")
        jobs_queue.close()
        close_publisher(app)
        dispose_engines()

    app = FastAPI(
        title="Lai Châu IOC",
        summary="Nền tảng vận hành không gian của Trung tâm Điều hành thông minh tỉnh Lai Châu",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.settings = settings
    app.state.engine = engine
    listen_dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    app.state.authenticator = Authenticator.from_settings(settings, engine)
    app.state.authenticator.credentials = CredentialCache(listen_dsn)
    watch_credentials(engine, app.state.authenticator.credentials)
    install_error_handlers(app)
    for router in (account.router, admin.router, edits.router, field.router, pages.router,
                   layers_routes.router, tiles.router, rasters.router, imports.router,
                   history.router, export.router, quality.router, scenarios.router,
                   indicators.router, jobs.router, health.router, operations.router,
                   incidents.router, ogc_processes.router, feedback.router, open311.router,
                   reports.router, sdmx.router, staff_pages.router,
                   sta.router, sensors.router, opinion.router, observations.router):
        app.include_router(router)
    app.include_router(harvest_routes.router)
    app.include_router(reconcile_routes.router)
    app.include_router(documents_routes.router)
    app.state.tile_cache = tile_cache(settings, database_url)
    app.state.sequencer = Sequencer(engine)
    app.state.layer_versions = LayerVersions(listen_dsn)
    app.mount("/static", pages.static, name="static")
    mount_ogc(app, settings, database_url, engine)
    # Outermost last: the caller is known, then counted, then its body is bounded.
    app.add_middleware(BodyLimit, settings=settings)
    app.add_middleware(RateLimit, engine=engine, settings=settings)
    app.add_middleware(CallerContext, authenticator=app.state.authenticator)
    if settings.cors_origin_list():
        # Before the caller is resolved: a browser's preflight carries no credentials.
        app.add_middleware(
            CORSMiddleware, allow_origins=settings.cors_origin_list(), allow_methods=CORS_METHODS,
            allow_headers=CORS_HEADERS, expose_headers=CORS_EXPOSED, max_age=600)
    # Outermost: every redirect, whoever made it, points at the configured public URL.
    app.add_middleware(PublicRedirects, base_url=settings.base_url)
    # Outermost of all: the request's id, its log line, its count and latency.
    app.add_middleware(Observe)
    POOL_SIZE.set(settings.pool_size)
    return app


def tile_cache(settings: Settings, database_url: str) -> TileCache:
    """The vector-tile cache: Redis when ``IOC_TILE_CACHE_REDIS`` is set, else memory."""
    margin = BUFFER / EXTENT
    if settings.tile_cache_redis:
        return RedisTileCache(settings.tile_cache_redis, scope=database_url, margin=margin)
    return MemoryTileCache(settings.tile_cache_mb * 2**20, margin=margin)


def mount_ogc(app: FastAPI, settings: Settings, database_url: str, engine: Engine) -> None:
    """Mount pygeoapi, behind the items fast path, at ``/ogc``."""
    config = pygeoapi_config(settings, database_url, engine)
    pygeoapi_app = build_pygeoapi_app(config, settings.var_dir / "run")
    ogc_processes.register_conformance()
    fast_path = ItemsFastPath(
        pygeoapi_app, engine, base_url=settings.base_url,
        default_limit=settings.default_limit, max_limit=settings.max_limit,
    )
    app.mount("/ogc", fast_path)
    # Items and features are matched first, not after every route of every router (a sixth of
    # a feature's time went into that walk); the rest of /ogc stays behind the routers.
    under_ogc = UnderOgc(fast_path)
    for path in ("/ogc/collections/{collectionId}/items",
                 "/ogc/collections/{collectionId}/items/{featureId}"):
        app.router.routes.insert(0, Route(path, under_ogc))


class UnderOgc:
    """An application of the ``/ogc`` mount reached by a route of its own: the scope it would
    have had through the mount (``root_path`` ``/ogc``)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request as the mount would."""
        root = scope.get("root_path", "")
        await self.app({**scope, "root_path": root + "/ogc",
                        "app_root_path": scope.get("app_root_path", root)}, receive, send)


def limit_malloc_arenas(arenas: int = 2) -> None:
    """Let glibc's malloc keep at most ``arenas`` arenas in this process.

    By default every thread that allocates may get an arena of its own (up to eight per core),
    and each keeps the memory freed in it: a web worker's thread pool then holds tens of MB it
    no longer uses. Two arenas keep a worker's peak memory near what it actually uses.
    """
    try:
        ctypes.CDLL("libc.so.6").mallopt(-8, arenas)  # M_ARENA_MAX
    except (OSError, AttributeError):
        pass  # not glibc: nothing to limit


def create_app_from_env() -> FastAPI:
    """Factory for uvicorn workers: settings from the environment."""
    limit_malloc_arenas()
    settings = Settings()
    configure_logging(settings)
    return create_app(settings)
