"""Accounts, sessions and API keys: create, sign in, resolve a caller, grant, lock, unlock, revoke.

Every change is written to the audit log in the same transaction. A token names a session;
resolving it reads the session and its account (``session_row``), so a lock or revoke is effective
at once; workers keep what they read in ``governance.credential_cache``, dropped on the notices
that every change of an account or session sends.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from gis_core import tokens
from gis_core.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    ValidationError,
)
from gis_core.passwords import check_policy, hash_password, verify_password
from governance import audit
from governance.access import Principal
from governance.tables import ROLES
from layers.departments import DEPARTMENTS

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
# write:<layer>, personal:<layer>, share:indicators (the SDMX exchange of indicators), or
# observe:<station id> (posting a station's observations)
_SCOPE = re.compile(r"^((write|personal):[a-z][a-z0-9_]*|share:indicators|observe:[1-9][0-9]*)$")
API_KEY_PREFIX = "ioc_"
_API_KEY = re.compile(r"^ioc_[0-9a-f]{8}_[A-Za-z0-9_-]{20,100}$")


@dataclass(frozen=True)
class AuthRules:
    """Token lifetime, lockout and expiry of unused accounts."""

    token_ttl: timedelta = timedelta(minutes=30)
    max_failed_logins: int = 5
    lockout: timedelta = timedelta(minutes=15)
    idle: timedelta = timedelta(days=90)



def _check_membership(conn: Connection, role: str, department: str | None,
                      commune_code: str | None) -> None:
    if role not in ROLES:
        raise ValidationError(f"Vai trò '{role}' không hợp lệ; dùng: {', '.join(ROLES)}.",
                              f"Unknown role '{role}'; use: {', '.join(ROLES)}.", "role")
    if department is not None and department not in DEPARTMENTS:
        raise ValidationError(f"Không có sở '{department}'; dùng: {', '.join(DEPARTMENTS)}.",
                              f"Unknown department '{department}'; use: {', '.join(DEPARTMENTS)}.",
                              "department")
    if role == "department_editor" and department is None:
        raise ValidationError("Biên tập viên của sở cần thuộc một sở (department).",
                              "A department editor needs a department.", "department")
    if role == "commune_editor" and commune_code is None:
        raise ValidationError("Biên tập viên của xã cần thuộc một xã (commune_code).",
                              "A commune editor needs a commune code.", "commune_code")
    if commune_code is not None and not conn.execute(
            text("SELECT 1 FROM communes WHERE code = :c"), {"c": commune_code}).first():
        raise ValidationError(f"Không có xã mã '{commune_code}'.", f"No commune with code '{commune_code}'.",
                              "commune_code")


def _check_username(username: str) -> None:
    if not _USERNAME.match(username):
        raise ValidationError("Tên đăng nhập gồm 3–64 ký tự a-z, 0-9, dấu chấm, gạch dưới, gạch ngang.",
                              "A user name has 3-64 characters: a-z, 0-9, dot, underscore, hyphen.",
                              "username")


def create_account(conn: Connection, *, username: str, role: str, password: str | None = None,
                   department: str | None = None, commune_code: str | None = None,
                   display_name: str | None = None, scopes: tuple[str, ...] = (),
                   by: Principal | None = None) -> dict[str, Any]:
    """Create a person's account (or, with ``role='api_client'``, see ``create_api_client``)."""
    _check_username(username)
    _check_membership(conn, role, department, commune_code)
    if role != "api_client":
        if password is None:
            raise ValidationError("Cần mật khẩu.", "A password is required.", "password")
        check_policy(password, username)
    for scope in scopes:
        if not _SCOPE.match(scope):
            raise ValidationError(f"Phạm vi '{scope}' không hợp lệ (write:<lớp>, personal:<lớp>, "
                                  "share:indicators hoặc observe:<mã trạm>).",
                                  f"Invalid scope '{scope}' (write:<layer>, personal:<layer>, "
                                  "share:indicators or observe:<station id>).", "scopes")
    if conn.execute(text("SELECT 1 FROM accounts WHERE username = :u"), {"u": username}).first():
        raise ConflictError(f"Tên đăng nhập '{username}' đã tồn tại.",
                            message_en=f"User name '{username}' is taken.")
    conn.execute(text(
        "INSERT INTO accounts (username, display_name, role, department, commune_code, scopes, "
        "password_hash, password_changed_at, created_by) VALUES (:u, :d, :r, :dep, :c, :s, :h, "
        "now(), :by)"),
        {"u": username, "d": display_name, "r": role, "dep": department, "c": commune_code,
         "s": list(scopes), "h": hash_password(password) if password else None,
         "by": by.username if by else None})
    account = get_account(conn, username)
    audit.record(conn, "account.create", actor=by, target=username,
                 details={k: account[k] for k in ("role", "department", "commune_code", "scopes")})
    return account


def create_api_client(conn: Connection, *, username: str, scopes: tuple[str, ...],
                      department: str | None = None, by: Principal | None = None
                      ) -> tuple[dict[str, Any], str]:
    """Create an API client; returns the account and its key (shown once, stored hashed)."""
    create_account(conn, username=username, role="api_client", department=department,
                   scopes=scopes, by=by)
    prefix = secrets.token_hex(4)
    key = f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    conn.execute(text("UPDATE accounts SET key_prefix = :p, password_hash = :h WHERE username = :u"),
                 {"p": prefix, "h": hashlib.sha256(key.encode()).hexdigest(), "u": username})
    return get_account(conn, username), key


_PUBLIC_COLUMNS = ("id, username, display_name, role, department, commune_code, scopes, status, "
                   "failed_logins, locked_until, last_login_at, created_at, created_by")


def get_account(conn: Connection, username: str) -> dict[str, Any]:
    """One account (without secrets); 404 when there is none."""
    row = conn.execute(text(f"SELECT {_PUBLIC_COLUMNS} FROM accounts WHERE username = :u"),  # noqa: S608
                       {"u": username}).mappings().first()
    if row is None:
        raise NotFoundError(f"Không có tài khoản '{username}'.",
                            message_en=f"There is no account '{username}'.")
    return dict(row)


def list_accounts(conn: Connection) -> list[dict[str, Any]]:
    """Every account (without secrets), by user name."""
    rows = conn.execute(text(f"SELECT {_PUBLIC_COLUMNS} FROM accounts ORDER BY username"))  # noqa: S608
    return [dict(r) for r in rows.mappings()]


def _end_sessions(conn: Connection, account_id: Any) -> None:
    """End every open session of the account."""
    conn.execute(text("UPDATE sessions SET revoked_at = now() WHERE revoked_at IS NULL AND "
                      "account_id = :id"), {"id": account_id})


def set_status(conn: Connection, username: str, status: str, *, by: Principal | None = None,
               reason: str | None = None) -> dict[str, Any]:
    """Lock, unlock (active) or revoke an account; lock and revoke end its sessions at once."""
    before = get_account(conn, username)
    if before["status"] == "revoked" and status != "revoked":
        raise ConflictError(f"Tài khoản '{username}' đã bị thu hồi vĩnh viễn.",
                            message_en=f"Account '{username}' was revoked for good.")
    conn.execute(text("UPDATE accounts SET status = :s, failed_logins = 0, locked_until = NULL, "
                      "last_login_at = CASE WHEN :s = 'active' THEN now() ELSE last_login_at END "
                      "WHERE username = :u"), {"s": status, "u": username})
    if status != "active":
        _end_sessions(conn, before["id"])
    action = {"active": "account.unlock", "locked": "account.lock", "revoked": "account.revoke"}
    audit.record(conn, action[status], actor=by, target=username, reason=reason,
                 details={"before": before["status"], "after": status})
    return get_account(conn, username)


def grant(conn: Connection, username: str, *, role: str, department: str | None = None,
          commune_code: str | None = None, scopes: tuple[str, ...] | None = None,
          by: Principal | None = None) -> dict[str, Any]:
    """Change an account's role and membership; its open sessions end (new rights, new sign-in)."""
    before = get_account(conn, username)
    _check_membership(conn, role, department, commune_code)
    if (role == "api_client") != (before["role"] == "api_client"):
        raise ValidationError("Không đổi được giữa người dùng và ứng dụng (API client).",
                              "A person cannot become an API client or the reverse.", "role")
    conn.execute(text("UPDATE accounts SET role = :r, department = :d, commune_code = :c, "
                      "scopes = coalesce(:s, scopes) WHERE username = :u"),
                 {"r": role, "d": department, "c": commune_code,
                  "s": list(scopes) if scopes is not None else None, "u": username})
    _end_sessions(conn, before["id"])
    after = get_account(conn, username)
    keys = ("role", "department", "commune_code", "scopes")
    audit.record(conn, "account.grant", actor=by, target=username,
                 details={"before": {k: before[k] for k in keys}, "after": {k: after[k] for k in keys}})
    return after


def set_password(conn: Connection, username: str, password: str, *, by: Principal | None = None
                 ) -> None:
    """Set a new password (policy checked) and end the account's sessions."""
    account = get_account(conn, username)
    check_policy(password, username)
    conn.execute(text("UPDATE accounts SET password_hash = :h, password_changed_at = now() "
                      "WHERE username = :u"), {"h": hash_password(password), "u": username})
    _end_sessions(conn, account["id"])
    audit.record(conn, "account.password", actor=by, target=username)


def expire_idle(conn: Connection, idle: timedelta, *, by: Principal | None = None) -> list[str]:
    """Mark accounts unused for longer than ``idle`` as expired (and forget sessions ended more
    than a day ago); returns the expired accounts' names."""
    conn.execute(text("DELETE FROM sessions WHERE coalesce(revoked_at, expires_at) "
                      "< now() - interval '1 day'"))
    rows = conn.execute(text(
        "UPDATE accounts SET status = 'expired' WHERE status = 'active' AND role <> 'operator' "
        "AND coalesce(last_login_at, created_at) < now() - :idle RETURNING username"),
        {"idle": idle}).scalars().all()
    for name in rows:
        audit.record(conn, "account.expire", actor=by, target=name,
                     details={"idle_days": idle.days})
    return list(rows)


def _wrong(rules: AuthRules) -> tuple[str, str]:
    """The one answer to every refused sign-in that did not prove the password.

    An unknown name, a wrong password and an account locked after repeated failures get the same
    words (naming the lockout rule, so a person who is locked out can tell why), and each attempt
    costs one password verification, so neither the answer nor its time tells which it was.
    """
    minutes = int(rules.lockout.total_seconds() // 60)
    return (f"Sai tên đăng nhập hoặc mật khẩu. Sau {rules.max_failed_logins} lần sai liên tiếp, "
            f"tài khoản tạm khóa {minutes} phút.",
            f"Wrong user name or password. After {rules.max_failed_logins} wrong passwords in a "
            f"row an account is locked for {minutes} minutes.")


@dataclass(frozen=True)
class Login:
    """A successful sign-in: the token, its expiry and the account."""

    token: str
    expires_at: datetime
    account: dict[str, Any]


def login(engine: Engine, username: str, password: str, *, secret: bytes, rules: AuthRules,
          client_ip: str | None = None) -> Login:
    """Check a password and open a session; 401 (audited) on any failure, lockout after N.

    The password is verified on every attempt, before the account's state is looked at. A
    temporary lockout is never revealed, not even to the right password: during the lockout a
    right guess must not be told apart from a wrong one, or the lockout would not slow guessing.
    A right password on an account an operator locked, revoked or that expired is told so.
    """
    refused: AuthenticationError | None = None
    wellformed = _USERNAME.match(username) is not None
    with engine.begin() as conn:
        row = conn.execute(text(
            "SELECT id, password_hash, status, role, failed_logins, locked_until, "
            "coalesce(last_login_at, created_at) AS last_used FROM accounts WHERE username = :u "
            "FOR UPDATE"), {"u": username}).mappings().first() if wellformed else None
        now = datetime.now(UTC)
        person = row is not None and row["role"] != "api_client"
        right = verify_password(row["password_hash"] if person else None, password)

        def fail(outcome: str, vi: str, en: str, **details: Any) -> AuthenticationError:
            audit.record(conn, "login", actor=username, outcome=outcome, client_ip=client_ip,
                         details=details)
            return AuthenticationError(vi, message_en=en)

        if not person:
            refused = fail("unknown-user", *_wrong(rules))
        elif row["locked_until"] is not None and row["locked_until"] > now:
            refused = fail("locked-out", *_wrong(rules), password_right=right)
        elif not right:
            failures = row["failed_logins"] + 1
            locked = failures >= rules.max_failed_logins
            conn.execute(text("UPDATE accounts SET failed_logins = :f, locked_until = :l WHERE id = :id"),
                         {"f": 0 if locked else failures,
                          "l": now + rules.lockout if locked else None, "id": row["id"]})
            refused = fail("wrong-password", *_wrong(rules), failures=failures, locked_out=locked)
        elif row["status"] != "active":
            refused = fail(row["status"], f"Tài khoản đang ở trạng thái '{row['status']}'; liên hệ "
                           "bộ phận vận hành.",
                           f"The account is {row['status']}; contact the operators.")
        elif row["role"] != "operator" and row["last_used"] < now - rules.idle:
            conn.execute(text("UPDATE accounts SET status = 'expired' WHERE id = :id"), {"id": row["id"]})
            audit.record(conn, "account.expire", target=username,
                         details={"idle_days": rules.idle.days})
            refused = fail("expired", "Tài khoản đã hết hạn do lâu không dùng; liên hệ bộ phận vận hành.",
                           "The account expired after a long time unused; contact the operators.")
        else:
            session_id = secrets.token_urlsafe(24)
            expires = now + rules.token_ttl
            conn.execute(text("UPDATE accounts SET failed_logins = 0, locked_until = NULL, "
                              "last_login_at = :now WHERE id = :id"), {"now": now, "id": row["id"]})
            conn.execute(text("INSERT INTO sessions (id, account_id, expires_at, client_ip) "
                              "VALUES (:s, :a, :e, :ip)"),
                         {"s": session_id, "a": row["id"], "e": expires, "ip": client_ip})
            audit.record(conn, "login", actor=username, client_ip=client_ip,
                         details={"session": session_id[:8]})
            return Login(tokens.sign(secret, session_id, expires.timestamp()), expires,
                         get_account(conn, username))
    assert refused is not None
    raise refused


def logout(conn: Connection, principal: Principal) -> None:
    """End the caller's session."""
    conn.execute(text("UPDATE sessions SET revoked_at = now() WHERE id = :s"),
                 {"s": principal.session_id})
    audit.record(conn, "logout", actor=principal)


def _principal(row: Any, *, session_id: str | None, client_ip: str | None, reason: str | None
               ) -> Principal:
    return Principal(username=row["username"], role=row["role"], department=row["department"],
                     commune_code=row["commune_code"], scopes=frozenset(row["scopes"] or ()),
                     session_id=session_id, client_ip=client_ip, reason=reason)


def inactive_error(status: str) -> AuthenticationError:
    """The refusal of a request from an account that is not active (``status`` names why)."""
    return AuthenticationError(
        f"Tài khoản đang ở trạng thái '{status}'; mọi phiên đã kết thúc.",
        message_en=f"The account is {status}; its sessions have ended.")


def session_row(conn: Connection, session_id: str) -> Mapping[str, Any] | None:
    """The session and its account's standing (``account_id`` included), or None."""
    return conn.execute(text(
        "SELECT a.id AS account_id, a.username, a.role, a.department, a.commune_code, a.scopes, "
        "a.status, a.locked_until, s.expires_at, s.revoked_at FROM sessions s JOIN accounts a "
        "ON a.id = s.account_id WHERE s.id = :s"), {"s": session_id}).mappings().first()


def session_principal(row: Mapping[str, Any] | None, session_id: str, *,
                      client_ip: str | None = None, reason: str | None = None) -> Principal:
    """The caller of a session read by ``session_row``; 401 when ended, expired or locked."""
    now = datetime.now(UTC)
    # The account's state first: a locked or revoked account's holder is told why it is out.
    if row is not None and (row["status"] != "active"
                            or (row["locked_until"] and row["locked_until"] > now)):
        raise inactive_error(row["status"] if row["status"] != "active" else "locked")
    if row is None or row["revoked_at"] is not None or row["expires_at"] <= now:
        raise AuthenticationError("Phiên làm việc đã kết thúc; hãy đăng nhập lại.",
                                  message_en="The session has ended; sign in again.")
    return _principal(row, session_id=session_id, client_ip=client_ip, reason=reason)


def resolve_token(conn: Connection, token: str, *, secret: bytes, client_ip: str | None = None,
                  reason: str | None = None) -> Principal:
    """The caller a bearer token stands for; 401 when forged, expired, revoked or locked."""
    session_id = tokens.verify(secret, token)
    return session_principal(session_row(conn, session_id), session_id, client_ip=client_ip,
                             reason=reason)


def _bad_key() -> AuthenticationError:
    return AuthenticationError("Khóa API không hợp lệ.", message_en="The API key is invalid.")


def api_key_digest(key: str) -> str:
    """What is stored of a key (its SHA-256); 401 when the key is not one of ours in form."""
    if not _API_KEY.match(key):
        raise _bad_key()
    return hashlib.sha256(key.encode()).hexdigest()


def api_key_row(conn: Connection, key: str) -> Mapping[str, Any] | None:
    """The API client whose key this is (``account_id`` included), or None."""
    digest = api_key_digest(key)
    row = conn.execute(text(
        "SELECT id AS account_id, username, role, department, commune_code, scopes, status, "
        "password_hash FROM accounts WHERE key_prefix = :p AND role = 'api_client'"),
        {"p": key.split("_")[1]}).mappings().first()
    if row is None or not hmac.compare_digest(digest, row["password_hash"] or ""):
        return None
    return row


def api_key_principal(row: Mapping[str, Any] | None, *, client_ip: str | None = None,
                      reason: str | None = None) -> Principal:
    """The API client read by ``api_key_row``; 401 when unknown or the client is not active."""
    if row is None:
        raise _bad_key()
    if row["status"] != "active":
        raise inactive_error(row["status"])
    return _principal(row, session_id=None, client_ip=client_ip, reason=reason)


def resolve_api_key(conn: Connection, key: str, *, client_ip: str | None = None,
                    reason: str | None = None) -> Principal:
    """The API client a key belongs to; 401 when unknown or the client is not active."""
    return api_key_principal(api_key_row(conn, key), client_ip=client_ip, reason=reason)
