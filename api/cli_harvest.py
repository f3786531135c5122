"""``ioc harvest``: declare sources (YAML/JSON), list them with their state, run one or the due
ones (from cron), show a source's runs, remove one."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path
from typing import Any

from gis_core.errors import InvalidParameterError, IocError
from gis_core.settings import Settings


def _say(message: str) -> None:
    sys.stdout.write(message + "\n")
    sys.stdout.flush()


def _run_line(run: dict[str, Any]) -> str:
    if run["status"] == "failed":
        return f"{run['source']}\tLỖI / FAILED\t{run['error']} / {run['error_en']}"
    return (f"{run['source']}\t{run['status']}\t+{run['added']} ~{run['changed']} -{run['removed']}"
            f"\t{run.get('features')} đối tượng / features\t{run['seconds']} s")


def _need_name(args: argparse.Namespace) -> str:
    if not args.name:
        raise InvalidParameterError(f"Cần tên nguồn: ioc harvest {args.action} TÊN.",
                                    message_en=f"Give the source name: ioc harvest {args.action} NAME.")
    return args.name


def _reconcile(engine: Any, args: argparse.Namespace, actor: str) -> None:
    """Compare a layer with a register extract: the counts and each finding, personal values
    masked (the full report is for those who may read them, over HTTP)."""
    from governance import audit
    from governance.access import personal_names
    from harvest import reconcile
    from layers.registry import require_layer

    spec_path = Path(_need_name(args))
    if not spec_path.is_file() or not args.file or not Path(args.file).is_file():
        raise IocError("Cần tệp mô tả và tệp trích lục: ioc harvest reconcile MO_TA.yaml --file "
                       "TRICH_LUC.zip.", message_en="Give the spec and the extract: ioc harvest "
                       "reconcile SPEC.yaml --file EXTRACT.zip.")
    spec = reconcile.parse_spec(spec_path.read_text(encoding="utf-8"))
    with engine.begin() as conn:
        out = reconcile.reconcile(conn, spec, Path(args.file), actor)
        audit.record(conn, "reconcile.run", actor=actor, target=f"reconciliations/{out['id']}",
                     details={"layer": spec.layer, "file": Path(args.file).name,
                              "counts": out["counts"]})
    out = reconcile.masked(out, personal_names(require_layer(spec.layer)))
    _say(f"Đối chiếu số {out['id']} / reconciliation {out['id']}: " +
         ", ".join(f"{k} {v}" for k, v in out["counts"].items()))
    for f in out["findings"]:
        _say("\t".join(str(f.get(k) if f.get(k) is not None else "-") for k in
                       ("id", "kind", "feature_id", "register_key", "field", "layer_value",
                        "register_value", "distance_m")))


def _cmd_harvest(args: argparse.Namespace, settings: Settings) -> None:
    from api.cli_data import _engine
    from governance import audit
    from harvest import declarations, run, sources

    engine = _engine(settings)
    actor = args.actor or getpass.getuser()
    if args.action == "put":
        path = Path(_need_name(args))
        if not path.is_file():
            raise IocError(f"Không có tệp '{path}'.", message_en=f"No such file '{path}'.")
        decl = declarations.parse(path.read_text(encoding="utf-8"))
        with engine.begin() as conn:
            new = sources.put(conn, decl, actor)
            audit.record(conn, "harvest.declare", actor=actor, target=f"harvest_sources/{decl.name}",
                         details={"layer": decl.layer, "kind": decl.kind, "new": new})
        _say(f"{decl.name}\t{'mới / created' if new else 'cập nhật / updated'}\t→ {decl.layer}")
    elif args.action == "list":
        with engine.connect() as conn:
            rows = sources.listing(conn)
        for s in rows:
            note = s.get("message", {}).get("vi", "") if s["state"] == "stale" else ""
            _say(f"{s['name']}\t{s['layer']}\t{s['kind']}\t{s['state']}\t"
                 f"{s['last_success_at'] or '-'}\t{note}")
    elif args.action == "show":
        with engine.connect() as conn:
            _say(json.dumps(sources.get(conn, _need_name(args)), ensure_ascii=False, indent=1,
                            default=str))
    elif args.action == "reconcile":
        _reconcile(engine, args, actor)
    elif args.action == "remove":
        with engine.begin() as conn:
            sources.remove(conn, _need_name(args))
            audit.record(conn, "harvest.remove", actor=actor, target=f"harvest_sources/{args.name}")
        _say(f"{args.name}\tđã xóa / removed")
    else:
        made = (run.run_due(engine, actor) if args.action == "due"
                else [run.run_source(engine, _need_name(args), actor)])
        for r in made:
            audit.record_now(engine, "harvest.run", actor=actor, target=f"harvest_sources/{r['source']}",
                             outcome="ok" if r["status"] != "failed" else "failed",
                             details={k: r.get(k) for k in ("status", "added", "changed", "removed",
                                                            "import_job")})
            _say(_run_line(r))
        if args.action == "due":
            _say(f"{len(made)} nguồn đã chạy / sources run")
        if args.action == "run" and made[0]["status"] == "failed":
            raise SystemExit(1)


def add_commands(add: object) -> None:
    """Register ``harvest`` on the ``ioc`` parser."""
    harvest = add("harvest", _cmd_harvest, "Thu thập dữ liệu từ hệ thống của các sở (Điều 8.1): "  # type: ignore[operator]
                  "put FILE, list, show NAME, run NAME, due, remove NAME, reconcile SPEC --file EXTRACT "
                  "/ harvesting and reconciliation")
    harvest.add_argument("action", choices=("put", "list", "show", "run", "due", "remove",
                                            "reconcile"),
                         help="due: chạy các nguồn đến hạn (từ cron)")
    harvest.add_argument("name", nargs="?", help="tên nguồn, hoặc tệp khai báo YAML/JSON (put)")
    harvest.add_argument("--file", help="reconcile: tệp trích lục (shapefile .zip, .gpkg, .csv)")
    harvest.add_argument("--actor", help="người chạy (mặc định: người dùng hệ thống)")
