"""One's own sessions and password: list and end sessions, change the password (knowing it).

A session is shown by a handle (the first characters of its id), never by the id itself.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from gis_core.errors import NotFoundError, ValidationError
from gis_core.passwords import verify_password
from governance import audit
from governance.access import Principal
from governance.accounts import get_account, set_password

HANDLE = 8


def list_sessions(conn: Connection, username: str) -> list[dict[str, Any]]:
    """The account's open sessions, newest first; ``current`` marks none (see the route)."""
    rows = conn.execute(text(
        "SELECT left(s.id, :n) AS handle, s.created_at, s.expires_at, s.client_ip, s.id "
        "FROM sessions s JOIN accounts a ON a.id = s.account_id WHERE a.username = :u "
        "AND s.revoked_at IS NULL AND s.expires_at > now() ORDER BY s.created_at DESC"),
        {"u": username, "n": HANDLE}).mappings()
    return [dict(r) for r in rows]


def revoke_session(conn: Connection, principal: Principal, handle: str) -> None:
    """End one of the caller's own open sessions by its handle (404 when there is none)."""
    ended = conn.execute(text(
        "UPDATE sessions s SET revoked_at = now() FROM accounts a WHERE a.id = s.account_id "
        "AND a.username = :u AND left(s.id, :n) = :h AND length(:h) = :n "
        "AND s.revoked_at IS NULL RETURNING s.id"),
        {"u": principal.username, "h": handle, "n": HANDLE}).scalars().all()
    if not ended:
        raise NotFoundError(f"Không có phiên đang mở '{handle}'.",
                            message_en=f"There is no open session '{handle}'.")
    audit.record(conn, "session.revoke", actor=principal, target=principal.username,
                 details={"session": handle})


def change_password(conn: Connection, principal: Principal, current: str, new: str) -> None:
    """Set a new password after checking the current one; every session ends (sign in again).

    A wrong current password is a 422 (the caller audits the refusal: this transaction rolls
    back)."""
    username = principal.username or ""
    row = conn.execute(text("SELECT password_hash FROM accounts WHERE username = :u FOR UPDATE"),
                       {"u": username}).first()
    if row is None or not verify_password(row[0], current):
        raise ValidationError("Mật khẩu hiện tại không đúng.",
                              message_en="The current password is wrong.",
                              parameter="current_password")
    set_password(conn, username, new, by=principal)


def reset_password(conn: Connection, username: str, by: Principal, password: str | None
                   ) -> str:
    """An operator's reset: the given password, or a generated one (returned, shown once)."""
    get_account(conn, username)
    chosen = password or secrets.token_urlsafe(12) + "7a"
    set_password(conn, username, chosen, by=by)
    return chosen
