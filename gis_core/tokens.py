"""Short-lived access tokens: a session id and an expiry, signed with HMAC-SHA256.

The token only names a session; every request looks the session and its account up, so
locking an account or revoking a session takes effect on the next request.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from pathlib import Path

from gis_core.errors import AuthenticationError

PREFIX = "v1."


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def load_secret(path: Path) -> bytes:
    """The signing key kept at ``path`` (created, readable by the owner only, on first use).

    Creation is atomic (write aside, then hard-link into place), so workers starting together
    all end up with the same key.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        aside = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
        try:
            os.link(aside, path)
        except FileExistsError:
            pass
        finally:
            aside.unlink()
    return bytes.fromhex(path.read_text().strip())


def sign(secret: bytes, session_id: str, expires_at: float) -> str:
    """A token for ``session_id`` valid until ``expires_at`` (Unix time)."""
    payload = _b64(json.dumps({"sid": session_id, "exp": int(expires_at)}).encode())
    mac = hmac.new(secret, payload.encode(), hashlib.sha256).digest()
    return f"{PREFIX}{payload}.{_b64(mac)}"


def _refused(vi: str, en: str) -> AuthenticationError:
    return AuthenticationError(vi, message_en=en)


def verify(secret: bytes, token: str, now: float | None = None) -> str:
    """The session id a valid token carries; 401 when forged, malformed or expired."""
    forged = _refused("Mã truy cập không hợp lệ; hãy đăng nhập lại.",
                      "The access token is invalid; sign in again.")
    if not token.startswith(PREFIX) or token.count(".") != 2:
        raise forged
    payload, mac = token[len(PREFIX):].split(".")
    expected = hmac.new(secret, payload.encode(), hashlib.sha256).digest()
    try:
        if not hmac.compare_digest(expected, _unb64(mac)):
            raise forged
        claims = json.loads(_unb64(payload))
        session_id, expires = str(claims["sid"]), float(claims["exp"])
    except (ValueError, KeyError, TypeError):
        raise forged from None
    if (now if now is not None else time.time()) >= expires:
        raise _refused("Mã truy cập đã hết hạn; hãy đăng nhập lại.",
                       "The access token has expired; sign in again.")
    return session_id
