"""The ``ioc`` command: run the platform, manage its database, migrations and samples."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence

from gis_core.db import translate_db_errors
from gis_core.errors import IocError
from gis_core.settings import Settings


def _say(message: str) -> None:
    sys.stdout.write(message + "\n")
    sys.stdout.flush()


def database_url(settings: Settings, *, start_embedded: bool = True) -> str:
    """The configured database, or the embedded cluster (started when needed)."""
    url = settings.resolved_database_url()
    if url:
        return url
    from gis_core import embedded

    root = settings.var_dir.resolve() / "pg"
    status = embedded.status(root)
    if not status.running:
        if not start_embedded:
            raise IocError("Cơ sở dữ liệu nhúng chưa chạy; hãy chạy 'ioc db start' hoặc 'ioc up'.",
                           message_en="The embedded database is not running; run 'ioc db start'.")
        _say(f"Khởi động PostgreSQL + PostGIS nhúng tại {root} …")
        status = embedded.start(root)
    return status.url


def migrate(url: str, revision: str = "head", *, downgrade: bool = False) -> None:
    """Apply (or revert) the Alembic migrations."""
    from alembic import command

    from migrations import alembic_config

    config = alembic_config(url)
    if downgrade:
        command.downgrade(config, revision)
    else:
        command.upgrade(config, revision)


def load_samples(url: str, scale: float = 1.0) -> dict[str, int]:
    """Load the Lai Châu samples into the layer tables (replacing what they hold)."""
    from gis_core.db import engine_for
    from layers.samples import load_samples as load

    return load(engine_for(url), scale=scale)


def _database_is_empty(url: str) -> bool:
    from gis_core.db import engine_for, scalar

    with engine_for(url).connect() as conn:
        return not scalar(conn, "SELECT EXISTS (SELECT 1 FROM communes)")


def serve(settings: Settings, url: str) -> None:
    """Serve the HTTP application with uvicorn (uvloop and httptools when installed)."""
    import uvicorn

    os.environ["DATABASE_URL"] = url
    _say(f"Phục vụ tại {settings.base_url}/  (OGC API: {settings.base_url}/ogc)")
    uvicorn.run("api.app:create_app_from_env", factory=True, host=settings.host,
                port=settings.port, workers=settings.workers, log_level="info")


def _cmd_up(args: argparse.Namespace, settings: Settings) -> None:
    started = time.monotonic()
    url = database_url(settings)
    migrate(url)
    if not args.no_samples and _database_is_empty(url):
        _say("Nạp dữ liệu mẫu Lai Châu …")
        counts = load_samples(url)
        _say(f"Đã nạp {sum(counts.values()):,} đối tượng vào {len(counts)} lớp.")
    _say(f"Sẵn sàng sau {time.monotonic() - started:.1f} s.")
    serve(settings, url)


def _cmd_serve(args: argparse.Namespace, settings: Settings) -> None:
    serve(settings, database_url(settings, start_embedded=False))


def _cmd_db(args: argparse.Namespace, settings: Settings) -> None:
    from gis_core import embedded

    root = settings.var_dir.resolve() / "pg"
    if args.action == "start":
        status = embedded.start(root)
        _say(f"Đang chạy: {status.url}")
    elif args.action == "stop":
        _say("Đã dừng." if embedded.stop(root) else "Không chạy.")
    else:
        status = embedded.status(root)
        if status.running:
            _say(f"Đang chạy (pid {status.pid}): {status.url}")
        else:
            _say("Chưa khởi tạo." if not status.initialised else "Đã dừng.")
            raise SystemExit(3)


def _cmd_migrate(args: argparse.Namespace, settings: Settings) -> None:
    migrate(database_url(settings), args.revision, downgrade=args.downgrade)
    _say("Đã cập nhật lược đồ cơ sở dữ liệu.")


def _cmd_samples(args: argparse.Namespace, settings: Settings) -> None:
    counts = load_samples(database_url(settings), args.scale)
    for layer_id, count in counts.items():
        _say(f"{layer_id:22} {count:>9,}")


def _cmd_layers(args: argparse.Namespace, settings: Settings) -> None:
    from layers.departments import DEPARTMENTS
    from layers.registry import LAYERS

    for layer in LAYERS:
        owner = DEPARTMENTS.get(layer.owner, {}).get("vi", layer.owner)
        _say(f"{layer.id:22} {layer.geometry:16} {layer.group:15} {layer.title['vi']} — {owner}")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``ioc``."""
    parser = argparse.ArgumentParser(
        prog="ioc",
        description="Nền tảng không gian IOC Lai Châu / Lai Châu IOC geospatial platform. "
        "Cơ sở dữ liệu: DATABASE_URL, IOC_DATABASE_URL hoặc PG*; nếu không có, dùng cụm "
        "PostgreSQL nhúng trong var/pg.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands: dict[str, Callable[[argparse.Namespace, Settings], None]] = {}

    def add(name: str, handler: Callable[[argparse.Namespace, Settings], None], help_: str
            ) -> argparse.ArgumentParser:
        commands[name] = handler
        return sub.add_parser(name, help=help_, description=help_)

    up = add("up", _cmd_up, "Khởi động tất cả: CSDL (nhúng nếu chưa cấu hình), migration, "
             "dữ liệu mẫu khi CSDL trống, rồi phục vụ / start everything and serve")
    up.add_argument("--no-samples", action="store_true", help="không nạp dữ liệu mẫu")
    for p in (up, add("serve", _cmd_serve, "Phục vụ HTTP (CSDL đã sẵn sàng) / serve HTTP")):
        p.add_argument("--host", help="địa chỉ lắng nghe (mặc định 127.0.0.1)")
        p.add_argument("--port", type=int, help="cổng (mặc định 8000)")
        p.add_argument("--workers", type=int, help="số tiến trình (mặc định 1)")
    db = add("db", _cmd_db, "Quản lý cụm PostgreSQL nhúng / manage the embedded PostgreSQL")
    db.add_argument("action", choices=("start", "stop", "status"))
    mig = add("migrate", _cmd_migrate, "Cập nhật lược đồ CSDL (Alembic) / apply migrations")
    mig.add_argument("--revision", default="head", help="phiên bản đích (mặc định head)")
    mig.add_argument("--downgrade", action="store_true", help="hạ về phiên bản đích")
    samples = add("samples", _cmd_samples, "Dữ liệu mẫu Lai Châu / Lai Châu sample data")
    samples.add_argument("action", choices=("load",), help="load: nạp (thay thế dữ liệu hiện có)")
    samples.add_argument("--scale", type=float, default=1.0, help="hệ số quy mô (mặc định 1)")
    layers = add("layers", _cmd_layers, "Các lớp dữ liệu / layers")
    layers.add_argument("action", choices=("list",))
    from api.cli_data import add_commands

    add_commands(add)
    parser.set_defaults(_commands=commands)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of ``ioc``: errors become one clear line and a non-zero exit."""
    parser = build_parser()
    args = parser.parse_args(argv)
    overrides = {k: v for k in ("host", "port", "workers")
                 if (v := getattr(args, k, None)) is not None}
    try:
        settings = Settings(**overrides)
        with translate_db_errors():
            args._commands[args.command](args, settings)
    except IocError as err:
        sys.stderr.write(f"ioc: lỗi: {err.message} / {err.message_en}\n")
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
