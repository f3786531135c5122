"""The ``ioc`` command: run the platform, manage its database, migrations and samples."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from gis_core.db import translate_db_errors
from gis_core.errors import IocError
from gis_core.settings import SAMPLES_DIR, Settings

if TYPE_CHECKING:
    from layers.imports.problems import ImportReport


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
    """Load the Lai Châu samples: every layer table refilled, then the province's reference
    actuals entered as reported values (never over entered ones)."""
    from gis_core.db import engine_for, transaction
    from layers.samples import fill_layer_tables
    from scenarios.reported import seed_reference

    counts = fill_layer_tables(engine_for(url), scale=scale)
    with transaction(engine_for(url)) as cursor:
        seed_reference(cursor)
    return counts


def _database_is_empty(url: str) -> bool:
    from gis_core.db import engine_for, scalar

    with engine_for(url).connect() as conn:
        return not scalar(conn, "SELECT EXISTS (SELECT 1 FROM communes)")


def serve(settings: Settings, url: str) -> None:
    """Serve the HTTP application with uvicorn (uvloop and httptools when installed)."""
    import uvicorn

    os.environ["DATABASE_URL"] = url
    # Every web worker writes its metrics here; /metrics adds them up (fresh at each start).
    metrics_dir = settings.var_dir.resolve() / "run" / "metrics"
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    from api.logs import configure_logging

    configure_logging(settings)
    _say(f"Phục vụ tại {settings.base_url}/  (OGC API: {settings.base_url}/ogc)")
    uvicorn.run("api.app:create_app_from_env", factory=True, host=settings.host,
                port=settings.port, workers=settings.workers,
                log_level=settings.log_level.lower(), log_config=None)


def _cmd_up(args: argparse.Namespace, settings: Settings) -> None:
    started = time.monotonic()
    url = database_url(settings)
    migrate(url)
    if not args.no_samples and _database_is_empty(url):
        _say("Nạp dữ liệu mẫu Lai Châu …")
        counts = load_samples(url)
        _say(f"Đã nạp {sum(counts.values()):,} đối tượng vào {len(counts)} lớp.")
    _provide_terrain(settings)
    _say(f"Sẵn sàng sau {time.monotonic() - started:.1f} s.")
    from api.cli_iot import start_listener_process
    from api.cli_jobs import start_worker_process

    os.environ["DATABASE_URL"] = url
    beside = [start_worker_process()]
    if "mqtt_url" in settings.model_fields_set:  # IOC_MQTT_URL set: the stations' listener too
        beside.append(start_listener_process())
    # uvicorn re-raises the SIGTERM it stopped on: exit through ``finally`` so the processes
    # beside it stop too (the default action would kill this process and leave them running).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        serve(settings, url)
    finally:
        for process in beside:
            process.terminate()
        for process in beside:
            process.wait(timeout=60)


def _provide_terrain(settings: Settings) -> None:
    """Write the SYNTHETIC terrain model when the platform has none yet, saying so."""
    from tiles.raster import TERRAIN, ensure_terrain, raster_dir

    if not (raster_dir(settings.var_dir) / f"{TERRAIN}.tif").is_file():
        _say("Tạo mô hình địa hình TỔNG HỢP (synthetic) của tỉnh …")
    ensure_terrain(settings.var_dir, SAMPLES_DIR / "province.geojson")


def _cmd_raster(args: argparse.Namespace, settings: Settings) -> None:
    from tiles.raster import add_raster, list_rasters, validate_cog

    if args.action == "add":
        if not args.file:
            raise IocError("Thiếu tệp COG: ioc raster add TỆP.",
                           message_en="Missing COG: ioc raster add FILE.")
        path = add_raster(settings.var_dir, args.file, args.name)
        info = validate_cog(path)
        _say(f"Đã thêm lớp raster '{path.stem}': {info['width']}×{info['height']}, {info['crs']}.")
    elif args.action == "terrain":
        _provide_terrain(settings)
        _say("Có mô hình địa hình 'terrain'.")
    else:
        for name in list_rasters(settings.var_dir):
            _say(name)


def _cmd_serve(args: argparse.Namespace, settings: Settings) -> None:
    serve(settings, database_url(settings, start_embedded=False))


def _cmd_db(args: argparse.Namespace, settings: Settings) -> None:
    from gis_core import embedded

    root = settings.var_dir.resolve() / "pg"
    if args.action in ("standby", "promote"):
        from api.cli_ops import run_db

        run_db(args, settings)
    elif args.action == "start":
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


def _cmd_import(args: argparse.Namespace, settings: Settings) -> None:
    from gis_core.db import engine_for
    from layers.imports.load import ImportOptions, run_import
    from layers.imports.problems import ImportRejected

    options = ImportOptions(crs=args.crs, mapping=_mapping(args.mapping), dataset=args.dataset,
                            key=args.key, source_layer=args.source_layer, dry_run=args.dry_run,
                            actor=args.actor or os.environ.get("USER", "cli"))
    path = Path(args.file)
    if not path.exists():
        raise IocError(f"Không có tệp '{path}'.", message_en=f"No such file '{path}'.")
    engine = engine_for(database_url(settings, start_embedded=False))
    try:
        report = run_import(engine, args.layer, path, options, progress=_progress)
    except ImportRejected as err:
        saved = _save_report(settings, err.report)
        raise IocError(f"{err.message} Báo cáo: {saved}",
                       message_en=f"{err.message_en} Report: {saved}") from None
    verb = "Thử (không ghi)" if report.status == "dry_run" else "Đã nhập"
    _say(f"{verb} {report.file_name} → {report.layer} [{report.dataset}], job {report.job}: "
         f"+{report.added} thêm, ~{report.changed} sửa, -{report.removed} xóa, "
         f"={report.unchanged} giữ nguyên; hệ tọa độ {report.crs_note}"
         + (f"; bảng mã {report.encoding}" if report.encoding not in (None, "utf-8", "ascii") else "")
         + (f"; {len(report.repaired)} hình học đã sửa" if report.repaired else ""))
    for warning in report.warnings:
        _say(f"Cảnh báo / warning: {warning}")


def _mapping(path: str | None) -> dict[str, str] | None:
    if not path:
        return None
    from layers.imports.rows import parse_mapping

    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as err:
        raise IocError(f"Không đọc được tệp ánh xạ '{path}': {err}",
                       message_en=f"Cannot read the mapping file '{path}': {err}") from None
    try:
        return parse_mapping(text)
    except ValueError:
        raise IocError(f"Tệp ánh xạ '{path}' phải có dạng 'trường: cột nguồn'.",
                       message_en=f"The mapping file '{path}' must read 'field: source column'."
                       ) from None


def _progress(stage: str, done: int, total: int) -> None:
    if sys.stderr.isatty():
        width = 30
        filled = width * done // max(total, 1)
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,} {stage:20}")
        sys.stderr.flush()
        if stage.startswith("ghi"):
            sys.stderr.write("\n")


def _save_report(settings: Settings, report: ImportReport) -> str:
    import json

    folder = settings.var_dir.resolve() / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / f"job-{report.job}"
    stem.with_suffix(".json").write_text(json.dumps(report.as_dict(), ensure_ascii=False,
                                                    indent=1, default=str), encoding="utf-8")
    stem.with_suffix(".csv").write_text(report.errors_csv(), encoding="utf-8")
    return str(stem.with_suffix(".csv"))
def _cmd_scenario(args: argparse.Namespace, settings: Settings) -> None:
    from api.scenario_cli import run_scenario

    run_scenario(args, database_url(settings, start_embedded=False), _say)
def _cmd_users(args: argparse.Namespace, settings: Settings) -> None:
    from api.cli_accounts import run_users

    run_users(args, settings, database_url(settings, start_embedded=False))


def _cmd_audit(args: argparse.Namespace, settings: Settings) -> None:
    from api.cli_accounts import run_audit

    run_audit(args, settings, database_url(settings, start_embedded=False))


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
    db.add_argument("action", choices=("start", "stop", "status", "standby", "promote"))
    db.add_argument("--sync", action="store_true", help="standby: sao chép đồng bộ / synchronous")
    mig = add("migrate", _cmd_migrate, "Cập nhật lược đồ CSDL (Alembic) / apply migrations")
    mig.add_argument("--revision", default="head", help="phiên bản đích (mặc định head)")
    mig.add_argument("--downgrade", action="store_true", help="hạ về phiên bản đích")
    samples = add("samples", _cmd_samples, "Dữ liệu mẫu Lai Châu / Lai Châu sample data")
    samples.add_argument("action", choices=("load",), help="load: nạp (thay thế dữ liệu hiện có)")
    samples.add_argument("--scale", type=float, default=1.0, help="hệ số quy mô (mặc định 1)")
    layers = add("layers", _cmd_layers, "Các lớp dữ liệu / layers")
    layers.add_argument("action", choices=("list",))
    raster = add("raster", _cmd_raster, "Lớp raster (COG) / raster layers: add FILE, terrain, list")
    raster.add_argument("action", choices=("add", "terrain", "list"))
    raster.add_argument("file", nargs="?", type=Path, help="tệp Cloud-Optimised GeoTIFF")
    raster.add_argument("--name", help="tên lớp (mặc định: tên tệp)")
    imp = add("import", _cmd_import, "Nhập tệp của sở, xã vào một lớp (Shapefile, GeoPackage, "
              "GeoJSON, KML, GPX, CSV, XLSX) / import a file into a layer")
    imp.add_argument("layer", help="lớp đích, ví dụ housing")
    imp.add_argument("file", help="tệp nguồn (.zip, .shp, .gpkg, .geojson, .kml, .gpx, .csv, .xlsx)")
    imp.add_argument("--crs", help="hệ tọa độ nguồn khi tệp không ghi, ví dụ EPSG:9205")
    imp.add_argument("--mapping", help="tệp YAML 'trường: cột nguồn'")
    imp.add_argument("--dataset", help="tên bộ dữ liệu (mặc định: tên tệp)")
    imp.add_argument("--key", help="cột khóa nguồn (nhiều cột: phân cách bằng dấu phẩy)")
    imp.add_argument("--source-layer", help="lớp/trang trong tệp khi có nhiều")
    imp.add_argument("--dry-run", action="store_true", help="chỉ kiểm tra, không ghi")
    imp.add_argument("--actor", help="người nhập (mặc định: người dùng hệ thống)")
    scenario = add("scenario", _cmd_scenario, "Kịch bản chỉ tiêu (Điều 9) / indicator scenarios")
    scenario.add_argument("action", choices=("list", "run"))
    scenario.add_argument("id", nargs="?", help="mã kịch bản (với run) / scenario id")
    scenario.add_argument("--selection", help='vùng chọn JSON, ví dụ {"type":"communes","codes":'
                          '["03388"]} / selection as JSON')
    scenario.add_argument("--params", help="các tham số khác (JSON) / other parameters as JSON")
    scenario.add_argument("--geojson", action="store_true", help="in GeoJSON / print GeoJSON")
    from api.cli_accounts import add_arguments

    add_arguments(add("users", _cmd_users, "Tài khoản / accounts"),
                  add("audit", _cmd_audit, "Nhật ký kiểm toán / audit log"))
    from api.cli_data import add_commands

    add_commands(add)
    from api import cli_jobs

    cli_jobs.add_commands(add)
    from api.cli_ops import add_commands as add_ops

    add_ops(add)
    from api.cli_reports import add_commands as add_report_commands

    add_report_commands(add)
    from api.cli_iot import add_command as add_iot

    add_iot(add)
    from api.opinion_cli import add_commands as add_opinion

    add_opinion(add)
    from api.cli_harvest import add_commands as add_harvest_commands

    add_harvest_commands(add)
    from api.cli_feedback import add_commands as add_feedback_commands

    add_feedback_commands(add)
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
