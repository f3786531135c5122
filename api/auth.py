"""Who is calling: the principal behind a bearer token or an API key, for routes and the OGC API.

``Authenticator.principal`` works on plain headers (the OGC ASGI wrapper uses it);
``current_principal`` is the FastAPI dependency; ``require_*`` narrow it to signed-in callers.
A refused credential is a 401 with an audit entry.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import unquote

from fastapi import Depends, Request
from sqlalchemy.engine import Connection, Engine
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from api.errors import problem
from gis_core import tokens
from gis_core.db import translate_db_errors
from gis_core.errors import AuthenticationError, IocError, PermissionDeniedError
from gis_core.settings import Settings
from gis_core.text import printable
from gis_core.tokens import load_secret
from governance import audit
from governance.access import ANONYMOUS, CURRENT, Principal
from governance.accounts import (
    API_KEY_PREFIX,
    AuthRules,
    api_key_digest,
    api_key_principal,
    api_key_row,
    session_principal,
    session_row,
)
from governance.credential_cache import CredentialCache


def reason_of(raw: str | None) -> str | None:
    """The ``X-Reason`` header as text (UTF-8, percent-encoding allowed), at most 500 characters.

    Control characters (a ``%00`` included) are stripped: the reason is kept, the bytes are not.
    """
    if not raw:
        return None
    try:
        text = raw.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        text = raw
    return printable(unquote(text, errors="replace"))[:500] or None


@dataclass(frozen=True)
class _Read:
    """The row a credential stands for, and whether it came from the process's cache."""

    row: Mapping[str, Any] | None
    key: tuple[str, str]
    generation: int | None
    cached: bool = False


@dataclass
class Authenticator:
    """Resolves credentials against the accounts in the database, through ``credentials`` (the
    process's cache of resolved keys and sessions, kept exact by notices) when there is one."""

    engine: Engine
    secret: bytes
    rules: AuthRules
    credentials: CredentialCache | None = None

    @classmethod
    def from_settings(cls, settings: Settings, engine: Engine) -> Authenticator:
        """Signing key from ``var/secret.key``; token and lockout rules from the settings."""
        return cls(engine, load_secret(settings.var_dir / "secret.key"), AuthRules(
            token_ttl=timedelta(minutes=settings.token_minutes),
            max_failed_logins=settings.max_failed_logins,
            lockout=timedelta(minutes=settings.lockout_minutes),
            idle=timedelta(days=settings.account_idle_days)))

    def principal(self, headers: dict[str, str] | object, client_ip: str | None) -> Principal:
        """The caller named by ``Authorization: Bearer`` or ``X-API-Key``; anonymous without."""
        get = headers.get  # type: ignore[attr-defined]
        reason = reason_of(get("x-reason"))
        authorization = get("authorization") or ""
        key = get("x-api-key")
        scheme, _, credential = authorization.partition(" ")
        if authorization and scheme.lower() != "bearer":
            credential = ""
        credential = credential.strip()
        if credential.startswith(API_KEY_PREFIX):
            key, credential = credential, ""
        if not credential and not key:
            if authorization:
                self._refuse(client_ip, "malformed authorization header")
            return Principal(client_ip=client_ip, reason=reason)
        try:
            if key:
                read = self._row(("key", api_key_digest(key)), lambda conn: api_key_row(conn, key))
                return self._keep(api_key_principal(read.row, client_ip=client_ip, reason=reason),
                                  read)
            session_id = tokens.verify(self.secret, credential)
            read = self._row(("session", session_id), lambda conn: session_row(conn, session_id))
            return self._keep(session_principal(read.row, session_id, client_ip=client_ip,
                                                reason=reason), read)
        except AuthenticationError as err:
            audit.record_now(self.engine, "auth.refused", outcome="refused", client_ip=client_ip,
                             details={"why": err.message_en})
            raise

    def _row(self, key: tuple[str, str], read: Callable[[Connection], Mapping[str, Any] | None]
             ) -> _Read:
        """The row behind a credential: kept in this process, or read from the database."""
        cache = self.credentials
        row = cache.get(key) if cache is not None else None
        if row is not None:
            return _Read(row, key, None, cached=True)
        generation = cache.generation() if cache is not None else None
        # The database down (a restart, a failover): 503, never a 500.
        with translate_db_errors(), self.engine.connect() as conn:
            return _Read(read(conn), key, generation)

    def _keep(self, principal: Principal, read: _Read) -> Principal:
        """Keep a credential that resolved to a caller (refusals are read again every time)."""
        if self.credentials is not None and not read.cached and read.row is not None:
            self.credentials.put(read.key, read.row["account_id"], read.row, read.generation)
        return principal

    def _refuse(self, client_ip: str | None, why: str) -> None:
        audit.record_now(self.engine, "auth.refused", outcome="refused", client_ip=client_ip,
                         details={"why": why})
        raise AuthenticationError(
            "Tiêu đề Authorization phải là 'Bearer <mã truy cập>'.",
            message_en="The Authorization header must be 'Bearer <token>'.")


def client_ip(request: Request) -> str | None:
    """The peer address (a proxy in front is expected to be configured to pass it through)."""
    return request.client.host if request.client else None


def current_principal(request: Request) -> Principal:
    """FastAPI dependency: the caller of this request (anonymous without credentials)."""
    error = getattr(request.state, "principal_error", None)
    if error is not None:
        raise error
    cached = getattr(request.state, "principal", None)
    if cached is None:
        authenticator: Authenticator = request.app.state.authenticator
        cached = authenticator.principal(request.headers, client_ip(request))
        request.state.principal = cached
    return cached


def require_signed_in(request: Request) -> Principal:
    """FastAPI dependency: the caller, who must have signed in (401 otherwise)."""
    principal = current_principal(request)
    if principal.is_anonymous:
        raise AuthenticationError("Cần đăng nhập.", message_en="Sign-in required.")
    return principal


def require_role(request: Request, roles: frozenset[str], *, event: str, message: str,
                 message_en: str) -> Principal:
    """The signed-in caller, whose role must be one of ``roles`` (401/403 otherwise).

    A refusal is audited as ``event``; ``{role}`` in the messages names the caller's role.
    """
    principal = require_signed_in(request)
    if principal.role not in roles:
        audit.record_now(request.app.state.engine, event, actor=principal,
                         outcome="denied", target=request.url.path)
        raise PermissionDeniedError(message.format(role=principal.role),
                                    message_en=message_en.format(role=principal.role))
    return principal


def require_operator(request: Request) -> Principal:
    """FastAPI dependency: the caller, who must be an operator (403 otherwise, audited)."""
    return require_role(request, frozenset({"operator"}), event="admin.denied",
                        message="Chỉ bộ phận vận hành (operator) được làm việc này.",
                        message_en="Only operators may do this.")




SignedIn = Annotated[Principal, Depends(require_signed_in)]
Operator = Annotated[Principal, Depends(require_operator)]


SESSION_COOKIE = "ioc_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Signing in by cookie needs no token yet (and SameSite=Strict keeps other sites' forms out).
CSRF_EXEMPT = frozenset({"/api/v1/auth/session"})


def csrf_token(secret: bytes, session_token: str) -> str:
    """The anti-forgery token that goes with a browser session (sent back as ``X-CSRF-Token``)."""
    return hmac.new(secret, b"csrf:" + session_token.encode(), hashlib.sha256).hexdigest()


def session_cookie(headers: Headers) -> str | None:
    """The browser session's token from its cookie, if any."""
    for part in headers.get("cookie", "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == SESSION_COOKIE and value:
            return value
    return None


class CallerContext:
    """ASGI middleware: the caller of every request in ``governance.access.CURRENT``, so code below
    the routes (scenario drill-downs, pygeoapi's provider) applies the one policy.

    Bad credentials leave the caller anonymous here; routes that need a caller answer 401.
    A browser session (the ``ioc_session`` cookie, used only without other credentials) stands
    for its token on reads; a request that changes anything counts as the session's only with its
    ``X-CSRF-Token`` (without one it is anonymous; with a wrong one, refused with a 403 before any
    route runs).
    """

    def __init__(self, app: ASGIApp, authenticator: Authenticator):
        self.app = app
        self.authenticator = authenticator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Resolve the caller, then run the request with it."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        state = scope.setdefault("state", {})
        headers = Headers(scope=scope)
        ip = client[0] if client else None
        cookie = None
        if not headers.get("authorization") and not headers.get("x-api-key") \
                and scope["path"] not in CSRF_EXEMPT:
            cookie = session_cookie(headers)
        if cookie and scope["method"] not in SAFE_METHODS:
            sent = headers.get(CSRF_HEADER)
            if sent is None:
                # Another page of the platform (the map, the field survey signing in) or another
                # site: the cookie lends it no authority, the request goes on as anonymous.
                cookie = None
            elif not hmac.compare_digest(sent, csrf_token(self.authenticator.secret, cookie)):
                await self._forged(scope, receive, send, ip)
                return
        try:
            if cookie:
                principal = await run_in_threadpool(
                    self.authenticator.principal, {"authorization": f"Bearer {cookie}",
                                                   "x-reason": headers.get("x-reason")}, ip)
            elif not headers.get("authorization") and not headers.get("x-api-key"):
                principal = Principal(client_ip=ip, reason=reason_of(headers.get("x-reason")))
            else:
                principal = await run_in_threadpool(self.authenticator.principal, headers, ip)
            state["principal"] = principal
        except IocError as err:
            state["principal_error"] = err
            principal = ANONYMOUS
        token = CURRENT.set(principal)
        try:
            await self.app(scope, receive, send)
        finally:
            CURRENT.reset(token)

    async def _forged(self, scope: Scope, receive: Receive, send: Send, ip: str | None) -> None:
        """Refuse a cookie-borne change without its anti-forgery token (audited)."""
        await run_in_threadpool(audit.record_now, self.authenticator.engine, "auth.csrf",
                                outcome="refused", client_ip=ip, target=scope["path"])
        err = PermissionDeniedError(
            "Yêu cầu thiếu mã chống giả mạo (CSRF); hãy tải lại trang rồi thử lại.",
            message_en="The request lacks its anti-forgery (CSRF) token; reload the page and "
            "try again.")
        response = problem(err.status, err.title, err.message, code=err.code,
                           detail_en=err.message_en, instance=scope["path"])
        await response(scope, receive, send)
