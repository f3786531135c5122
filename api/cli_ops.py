"""``ioc backup``, ``ioc restore`` and ``ioc db standby|promote``: backups you can restore and a
hot standby, on pgBackRest and PostgreSQL's streaming replication."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from gis_core.errors import InvalidParameterError, IocError
from gis_core.settings import Settings

Add = Callable[[str, Callable[[argparse.Namespace, Settings], None], str], argparse.ArgumentParser]


def _say(message: str) -> None:
    sys.stdout.write(message + "\n")
    sys.stdout.flush()


def _embedded_root(settings: Settings) -> Path:
    if settings.resolved_database_url():
        raise IocError(
            "DATABASE_URL trỏ tới CSDL ngoài: pgBackRest và bản sao dự phòng chạy trên máy CSDL "
            "đó, do người quản trị CSDL cấu hình (xem docs/reliability.md).",
            message_en="DATABASE_URL points at an external database: pgBackRest and the standby "
            "run on that database's host, configured by its DBA (see docs/reliability.md).")
    return settings.var_dir.resolve() / "pg"


def backups(settings: Settings):  # noqa: ANN201 - gis_core.backup.Backups, imported lazily
    """The pgBackRest backups of the embedded cluster."""
    from gis_core.backup import Backups

    return Backups(_embedded_root(settings), settings.var_dir.resolve() / "backup",
                   key=settings.backup_key, retention_full=settings.backup_retention_full)


def _cmd_backup(args: argparse.Namespace, settings: Settings) -> None:
    from gis_core.backup import status

    if args.action == "status":
        _say(json.dumps(status(settings.var_dir.resolve()), ensure_ascii=False, indent=1))
        return
    repo = backups(settings)
    if args.action == "list":
        for b in repo.info():
            _say(f"{b['label']:36} {b['type']:5} {b['stop']}  {b['size'] / 2**20:,.1f} MB")
        return
    if args.action in ("full", "diff"):
        record = repo.backup(args.action)
        rows = sum(v[0] for v in record["tables"].values())
        _say(f"Đã sao lưu {record['label']} ({args.action}) trong {record['seconds']} s; điểm "
             f"khôi phục {record['point_time']}: {len(record['tables'])} bảng, {rows:,} dòng.")
        if args.no_verify:
            return
    result = repo.verify(args.label)
    _say(f"Đã kiểm chứng {result['label']}: khôi phục vào cụm tạm, {result['tables']} bảng, "
         f"{result['rows']:,} dòng khớp tổng kiểm tra (khôi phục {result['restore_seconds']} s, "
         f"tổng {result['seconds']} s).")


def _cmd_restore(args: argparse.Namespace, settings: Settings) -> None:
    if (args.to_time is None) == (not args.latest):
        raise InvalidParameterError("Cần đúng một trong --to-time THỜI_ĐIỂM hoặc --latest.",
                                    message_en="Give exactly one of --to-time INSTANT or --latest.")
    try:
        when = None if args.latest else datetime.fromisoformat(args.to_time)
    except ValueError:
        when = datetime.min
    if when is not None and when.tzinfo is None:
        raise InvalidParameterError(
            f"--to-time phải là thời điểm RFC 3339 có múi giờ, ví dụ 2026-07-01T03:00:00+07:00 "
            f"(nhận được {args.to_time!r}).",
            message_en=f"--to-time must be an RFC 3339 instant with a zone, e.g. "
            f"2026-07-01T03:00:00+07:00 (got {args.to_time!r}).")
    repo = backups(settings)
    if args.into:
        into = Path(args.into).absolute()
        into.mkdir(parents=True, exist_ok=True)
        repo.restore_to_time(when, into=into)
        _say(f"Đã khôi phục tới {_label(when)} vào {into} (chưa khởi động).")
        return
    kept = repo.restore_to_time(when)
    _say(f"Đã khôi phục CSDL nhúng tới {_label(when)}"
         + (f"; dữ liệu cũ giữ tại {kept}." if kept else "."))


def _label(when: datetime | None) -> str:
    return when.isoformat() if when else "trạng thái lưu trữ mới nhất / the latest archived state"


def run_db(args: argparse.Namespace, settings: Settings) -> None:
    """``ioc db standby`` and ``ioc db promote`` on the embedded cluster."""
    from gis_core import standby

    root = _embedded_root(settings)
    standby_root = settings.var_dir.resolve() / "pg-standby"
    if args.action == "standby":
        state = standby.create(root, standby_root, synchronous=args.sync)
        mode = "đồng bộ / synchronous" if args.sync else "không đồng bộ / asynchronous"
        _say(f"Bản sao dự phòng ({mode}) đang chạy: {state.url}")
        primary = root.joinpath("port").read_text().strip()
        _say(f"DATABASE_URL=postgresql://postgres@127.0.0.1:{primary},127.0.0.1:{state.port}/"
             f"{state.db_name}?target_session_attrs=read-write")
    else:
        state = standby.promote(standby_root)
        _say(f"Đã nâng bản sao dự phòng thành CSDL chính: {state.url}. Không khởi động lại CSDL "
             "chính cũ như CSDL chính.")


def add_commands(add: Add) -> None:
    """Register ``backup`` and ``restore`` on the ``ioc`` parser."""
    backup = add("backup", _cmd_backup, "Sao lưu pgBackRest (đầy đủ, vi sai, WAL) và kiểm chứng "
                 "bằng khôi phục / pgBackRest backups, verified by a restore")
    backup.add_argument("action", nargs="?", default="full",
                        choices=("full", "diff", "verify", "list", "status"),
                        help="full (mặc định), diff, verify (khôi phục bản mới nhất vào cụm tạm và "
                        "so sánh), list, status")
    backup.add_argument("--label", help="với verify: nhãn bản sao lưu (mặc định: mới nhất)")
    backup.add_argument("--no-verify", action="store_true",
                        help="không kiểm chứng ngay sau khi sao lưu")
    restore = add("restore", _cmd_restore, "Khôi phục tới một thời điểm (PITR) / point-in-time "
                  "recovery")
    restore.add_argument("--to-time", help="thời điểm RFC 3339, ví dụ 2026-07-01T03:00:00+07:00")
    restore.add_argument("--latest", action="store_true",
                         help="tới WAL cuối cùng đã lưu trữ (khi đĩa CSDL hỏng)")
    restore.add_argument("--into", help="khôi phục vào thư mục mới thay vì thay cụm nhúng")
