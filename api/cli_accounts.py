"""``ioc users ...`` and ``ioc audit``: account administration and the audit log from the shell."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from datetime import timedelta

from api import audit_anchor
from gis_core.db import engine_for
from gis_core.errors import IocError
from gis_core.settings import Settings
from governance import accounts, audit
from governance.access import Principal

ACTIONS = ("create-operator", "create", "grant", "lock", "unlock", "revoke", "password", "list",
           "expire-idle")


def _say(message: str) -> None:
    sys.stdout.write(message + "\n")


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Mật khẩu / password: ")
    if getpass.getpass("Nhập lại / again: ") != first:
        raise IocError("Hai lần nhập mật khẩu không khớp.", message_en="The passwords differ.")
    return first


def add_arguments(users: argparse.ArgumentParser, audit_parser: argparse.ArgumentParser) -> None:
    """The options of ``ioc users`` and ``ioc audit``."""
    users.add_argument("action", choices=ACTIONS)
    users.add_argument("username", nargs="?", help="tên đăng nhập / user name")
    users.add_argument("--role", help="operator, leader, department_editor, commune_editor, "
                       "field_staff, viewer, api_client")
    users.add_argument("--department", help="mã sở, ví dụ so_xay_dung")
    users.add_argument("--commune", help="mã xã")
    users.add_argument("--name", help="họ tên / display name")
    users.add_argument("--scope", action="append", default=[],
                       help="phạm vi API client: write:<lớp>, personal:<lớp>, "
                       "observe:<mã trạm>")
    users.add_argument("--reason", help="lý do (ghi vào nhật ký)")
    users.add_argument("--password-stdin", action="store_true", help="đọc mật khẩu từ stdin")
    audit_parser.add_argument("--verify", action="store_true",
                              help="kiểm tra chuỗi băm và các mốc đã công bố / check the chain "
                              "and the published anchors")
    audit_parser.add_argument("--anchor", action="store_true",
                              help="công bố mốc (băm cuối) ngay / publish the head now")
    audit_parser.add_argument("--actor")
    audit_parser.add_argument("--action")
    audit_parser.add_argument("--limit", type=int, default=50)


def run_users(args: argparse.Namespace, settings: Settings, url: str) -> None:
    """``ioc users ACTION``."""
    engine = engine_for(url)
    cli = Principal(username=f"cli:{getpass.getuser()}", role="operator", reason=args.reason)
    action = args.action
    if action not in ("list", "expire-idle") and not args.username:
        raise IocError("Cần tên đăng nhập.", message_en="A user name is required.")
    with engine.begin() as conn:
        if action == "list":
            for a in accounts.list_accounts(conn):
                where = a["department"] or a["commune_code"] or ""
                _say(f"{a['username']:24} {a['role']:18} {where:14} {a['status']:8} "
                     f"{a['last_login_at'] or '-'}")
        elif action == "expire-idle":
            names = accounts.expire_idle(conn, timedelta(days=settings.account_idle_days), by=cli)
            _say(f"Hết hạn: {', '.join(names) or 'không có'}")
        elif action in ("create", "create-operator"):
            role = "operator" if action == "create-operator" else args.role
            if not role:
                raise IocError("Cần --role.", message_en="--role is required.")
            if role == "api_client":
                _, key = accounts.create_api_client(conn, username=args.username,
                                                    scopes=tuple(args.scope),
                                                    department=args.department, by=cli)
                _say(f"Khóa API (chỉ hiện một lần) / API key (shown once): {key}")
                return
            accounts.create_account(conn, username=args.username, role=role,
                                    password=_password(args), department=args.department,
                                    commune_code=args.commune, display_name=args.name,
                                    scopes=tuple(args.scope), by=cli)
            _say(f"Đã tạo tài khoản {args.username} ({role}).")
        elif action == "grant":
            accounts.grant(conn, args.username, role=args.role, department=args.department,
                           commune_code=args.commune, scopes=tuple(args.scope) or None, by=cli)
            _say(f"Đã cấp quyền {args.role} cho {args.username}.")
        elif action == "password":
            accounts.set_password(conn, args.username, _password(args), by=cli)
            _say(f"Đã đặt mật khẩu mới cho {args.username}.")
        else:
            status = {"lock": "locked", "unlock": "active", "revoke": "revoked"}[action]
            accounts.set_status(conn, args.username, status, by=cli, reason=args.reason)
            _say(f"{args.username}: {status}")


def run_audit(args: argparse.Namespace, settings: Settings, url: str) -> None:
    """``ioc audit``: the newest entries, or ``--verify`` the chain (exit 2 when broken)."""
    engine = engine_for(url)
    if args.anchor:
        anchor = audit_anchor.publish(engine, settings)
        _say(f"Mốc / anchor: {anchor.seq} {anchor.hash} {anchor.at}" if anchor else
             "Băm cuối đã được công bố / the head is already anchored")
    if args.verify:
        result = audit_anchor.verify(engine, settings)
        if result.ok:
            _say(f"Chuỗi nhật ký toàn vẹn: {result.checked} mục; băm cuối {result.head}; khớp "
                 f"các mốc đã công bố đến mục {result.anchored}")
            return
        for problem in result.problems:
            _say(f"LỖI / BROKEN: {problem}")
        raise SystemExit(2)
    if args.anchor:
        return
    with engine.connect() as conn:
        for entry in reversed(audit.entries(conn, actor=args.actor, action=args.action,
                                            limit=args.limit)):
            _say(f"{entry.seq:>6} {entry.at:%Y-%m-%d %H:%M:%S} {entry.actor or '-':20} "
                 f"{entry.action:16} {entry.outcome:10} {entry.target or ''} "
                 f"{entry.client_ip or ''} {json.dumps(entry.details, ensure_ascii=False)[:120]}")
