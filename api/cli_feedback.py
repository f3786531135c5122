"""``ioc feedback``: the operator's view of citizen feedback from the command line.

``list`` (filters: --status, --overdue, --department, --commune), ``show ID`` (the case, its
steps and its deadline notices; the reporter as a pseudonym: the command runs as the operator,
who reads no identity; a reveal takes the two-person workflow over HTTP), ``sweep`` (warn and
escalate now, or on the clock of ``--now``) and ``stats`` (satisfaction and on-time rates per
department, category or commune in a period).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import Any

from gis_core.errors import InvalidParameterError
from gis_core.settings import Settings

STATUSES = ("open", "closed", "received", "classified", "forwarded", "in_progress", "resolved",
            "returned")
BY = {"department": "department", "category": "service_code", "commune": "commune_code"}


def _say(message: str) -> None:
    sys.stdout.write(message + "\n")
    sys.stdout.flush()


def _now(raw: str | None) -> datetime:
    if not raw:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidParameterError(
            f"--now '{raw}' không phải thời điểm ISO 8601 (ví dụ 2027-01-15T08:00+07:00).",
            message_en=f"--now '{raw}' is not an ISO 8601 time (e.g. 2027-01-15T08:00+07:00).",
            parameter="now") from None
    if moment.tzinfo is None:  # a time without a zone is Lai Châu's
        from feedback.cases import LOCAL

        moment = moment.replace(tzinfo=LOCAL)
    return moment


def _check(args: argparse.Namespace) -> None:
    from layers.departments import DEPARTMENTS

    if args.status and args.status not in STATUSES:
        raise InvalidParameterError(
            f"--status '{args.status}' không có; dùng một trong: {', '.join(STATUSES)}.",
            message_en=f"No status '{args.status}'; use one of: {', '.join(STATUSES)}.")
    if args.department and args.department not in DEPARTMENTS:
        raise InvalidParameterError(
            f"Không có sở '{args.department}'; dùng một trong: {', '.join(DEPARTMENTS)}.",
            message_en=f"No department '{args.department}'; use one of: {', '.join(DEPARTMENTS)}.")


def _list(engine: Any, secret: bytes, args: argparse.Namespace) -> None:
    from feedback import cases, identity

    _check(args)
    with engine.connect() as conn:
        found = cases.search(conn, status=args.status, department=args.department,
                             commune_code=args.commune, limit=args.limit)
    shown = 0
    for case in found:
        state = cases.deadline_state(case)
        if args.overdue and not state["overdue"]:
            continue
        flag = "QUÁ HẠN / OVERDUE" if state["overdue"] else (
            "sắp đến hạn / due soon" if state["due_soon"] else "")
        left = "-" if state["days_left"] is None else str(state["days_left"])
        _say("\t".join((str(case["id"]), case["status"], case["service_code"], case["department"],
                        case["commune_code"] or "-", str(case["due_on"]), left, flag,
                        identity.pseudonym(secret, case["id"]))))
        shown += 1
    _say(f"{shown} phản ánh / cases")


def _show(engine: Any, secret: bytes, args: argparse.Namespace) -> None:
    from feedback import cases, escalation, identity

    if not args.id or not args.id.isdigit():
        raise InvalidParameterError("Cần số phản ánh: ioc feedback show SỐ.",
                                    message_en="Give the case number: ioc feedback show NUMBER.")
    rid = int(args.id)
    with engine.connect() as conn:
        case = cases.get(conn, rid)
        steps = cases.events(conn, rid)
        notices = escalation.notices(conn, request_id=rid)
    view = {k: v for k, v in case.items() if k != "token"}
    view.update(cases.deadline_state(case), reporter=identity.pseudonym(secret, rid),
                identity="Không hiển thị: xem danh tính cần lý do và người thứ hai duyệt "
                "(POST /api/v1/feedback/cases/{id}/reveals). / Not shown: a reveal needs a reason "
                "and a second approver.", steps=steps, notices=notices)
    _say(json.dumps(view, ensure_ascii=False, indent=1, default=str))


def _sweep(engine: Any, settings: Settings, args: argparse.Namespace) -> None:
    from feedback import escalation
    from feedback.schedule import policy

    done = escalation.sweep(engine, _now(args.now), policy(settings))
    _say(f"{done.on.isoformat()}: cảnh báo / warned {len(done.warned)} "
         f"{done.warned}; chuyển điều hành / escalated {len(done.escalated)} {done.escalated}")
    for skipped in done.skipped:
        _say(f"bỏ qua / skipped {skipped['id']}: {skipped['error']} / {skipped['error_en']}")


def _stats(engine: Any, args: argparse.Namespace) -> None:
    from feedback import cases, indicators

    if args.by not in BY:
        raise InvalidParameterError(f"--by '{args.by}' không có; dùng: {', '.join(BY)}.",
                                    message_en=f"No --by '{args.by}'; use: {', '.join(BY)}.")
    period = args.period or str(cases.today().year)
    start, end = indicators.period_range(period)
    by = BY[args.by]
    with engine.connect() as conn:
        timely = {r["unit"]: r for r in indicators.on_time(conn, by, start, end, cases.today())}
        rated = {r["unit"]: r for r in indicators.satisfaction(conn, by, start, end)}
    _say(f"# {period}, {args.by}: unit  received  rated  mean_rating  satisfied_%  due  on_time  "
         "on_time_%")
    for unit in sorted(set(timely) | set(rated)):
        s, t = rated.get(unit, {}), timely.get(unit, {})
        _say("\t".join(str(v if v is not None else "-") for v in (
            unit, s.get("received", 0), s.get("rated", 0), s.get("mean_rating"),
            s.get("satisfied_pct"), t.get("due", 0), t.get("on_time", 0), t.get("share_pct"))))


def _cmd_feedback(args: argparse.Namespace, settings: Settings) -> None:
    from api.cli_data import _engine
    from feedback import identity

    engine = _engine(settings)
    if args.action == "sweep":
        _sweep(engine, settings, args)
    elif args.action == "stats":
        _stats(engine, args)
    else:
        secret = identity.key(settings.var_dir)
        (_list if args.action == "list" else _show)(engine, secret, args)


def add_commands(add: object) -> None:
    """Register ``feedback`` on the ``ioc`` parser."""
    feedback = add("feedback", _cmd_feedback, "Phản ánh của người dân: list, show SỐ, sweep, "  # type: ignore[operator]
                   "stats / citizen feedback cases, the deadline sweep, rates")
    feedback.add_argument("action", choices=("list", "show", "sweep", "stats"))
    feedback.add_argument("id", nargs="?", help="show: số phản ánh / the case number")
    feedback.add_argument("--status", help="list: open, closed hoặc một bước / or a step")
    feedback.add_argument("--overdue", action="store_true", help="list: chỉ phản ánh quá hạn")
    feedback.add_argument("--department", help="list: mã sở, ví dụ so_xay_dung")
    feedback.add_argument("--commune", help="list: mã xã")
    feedback.add_argument("--limit", type=int, default=200, help="list: số dòng (mặc định 200)")
    feedback.add_argument("--now", help="sweep: thời điểm ISO 8601 thay cho bây giờ / the clock")
    feedback.add_argument("--by", default="department",
                          help="stats: department, category hoặc commune (mặc định department)")
    feedback.add_argument("--period", help="stats: 2026, 2026-Q3, 2026-07 (mặc định năm nay)")
