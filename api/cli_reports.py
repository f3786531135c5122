"""``ioc report``: list the report definitions, generate one, download a file, verify a file."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path

from gis_core.errors import InvalidParameterError, IocError
from gis_core.settings import Settings


def _say(message: str) -> None:
    sys.stdout.write(message + "\n")
    sys.stdout.flush()


def _cmd_report(args: argparse.Namespace, settings: Settings) -> None:
    from api.cli_data import _engine
    from gis_core.db import raw_cursor
    from governance import audit
    from reports import snapshot
    from reports.definitions import definitions, require

    if args.action == "list":
        for d in definitions().values():
            _say(f"{d.id}\t{'/'.join(d.periods)}\t{d.title['vi']}")
        return
    engine = _engine(settings)
    if args.action == "due":
        from reports.schedule import run_due

        actor = args.actor or "lich-bao-cao"
        with raw_cursor(engine) as cursor:
            made = run_due(cursor, args.format, actor)
        for run in made:
            audit.record_now(engine, "report.generate", actor=actor, target=f"report_runs/{run['id']}",
                             details={"definition": run["definition"], "period": run["period"],
                                      "format": run["format"], "via": "schedule"})
            _say(f"{run['definition']}\t{run['period']}\tsố {run['number']}\t{run['seconds']} s")
        _say(f"{len(made)} báo cáo đã lập / reports generated")
        return
    if args.action == "generate":
        if not args.id or not args.period:
            raise InvalidParameterError("Cần mã báo cáo và --period: ioc report generate ID --period "
                                        "2026-Q3.", message_en="Give a report id and --period: ioc "
                                        "report generate ID --period 2026-Q3.")
        params = {"incident": args.incident} if args.incident is not None else {}
        actor = args.actor or getpass.getuser()
        with raw_cursor(engine) as cursor:
            run = snapshot.generate(cursor, require(args.id), args.period, args.format, actor, params)
            data = snapshot.get_run(cursor, run["id"], with_file=True)["content"]
        output = Path(args.output or run["file_name"])
        output.write_bytes(data)
        audit.record_now(engine, "report.generate", actor=actor, target=f"report_runs/{run['id']}",
                         details={"definition": run["definition"], "period": run["period"],
                                  "format": run["format"], "via": "cli"})
        _say(f"{output}\tsố {run['number']}\tSHA-256 {run['file_sha256']}\t{run['figures']} số liệu"
             f"\t{run['seconds']} s")
        return
    if not args.id:
        raise InvalidParameterError("Cần tệp báo cáo: ioc report verify TỆP.",
                                    message_en="Give the report file: ioc report verify FILE.")
    path = Path(args.id)
    if not path.is_file():
        raise IocError(f"Không có tệp '{path}'.", message_en=f"No such file '{path}'.")
    with raw_cursor(engine) as cursor:
        result = snapshot.verify(cursor, path.read_bytes())
    audit.record_now(engine, "report.verify", actor=getpass.getuser(),
                     target=f"report_runs/{result['report']}", details={"ok": result["ok"]})
    if args.json:
        _say(json.dumps(result, ensure_ascii=False, indent=1, default=str))
    else:
        _say(f"Báo cáo số {result['number']} ({result['definition']}, {result['period']})")
        for reason in result["reasons"]:
            _say(f"  {reason['vi']} / {reason['en']}")
        for c in result["changed"]:
            _say(f"  {c['figure']}: {c['was']} → {c['now']} ({len(c['edits_since'])} thay đổi dữ liệu)")
        _say("  Khớp: tệp nguyên vẹn, số liệu không đổi." if result["ok"] else "")
    if not result["ok"]:
        raise SystemExit(2)


def add_commands(add: object) -> None:
    """Register ``report`` on the ``ioc`` parser."""
    report = add("report", _cmd_report, "Báo cáo (Điều 3.3, 6.4, 15.3): list, generate ID --period, due, "  # type: ignore[operator]
                 "verify FILE / reports")
    report.add_argument("action", choices=("list", "generate", "verify", "due"),
                        help="due: lập các báo cáo định kỳ đến hạn (chạy từ cron)")
    report.add_argument("id", nargs="?", help="mã báo cáo (generate) hoặc tệp (verify)")
    report.add_argument("--period", help="kỳ: 2026-Q3, 2026-11 hoặc 2026")
    report.add_argument("--format", choices=("docx", "pdf", "xlsx"), default="pdf",
                        help="định dạng (mặc định pdf)")
    report.add_argument("--incident", type=int, help="số sự cố (báo cáo sự cố)")
    report.add_argument("-o", "--output", help="tệp đích (mặc định: tên của báo cáo)")
    report.add_argument("--actor", help="người lập (mặc định: người dùng hệ thống)")
    report.add_argument("--json", action="store_true", help="verify: in JSON")
