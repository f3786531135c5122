"""``/staff``: the pages. Each is rendered for the signed-in role (the menu shows only what the
role may do); every action on them is a call of the HTTP API, which checks it again."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.auth import csrf_token, current_principal, session_cookie
from api.routes.pages import templates
from api.staff.text import WORDS, words
from gis_core.db import raw_cursor
from gis_core.errors import IocError
from governance.access import (
    INCIDENT_REPORTERS,
    VALUE_EDITORS,
    Principal,
    import_mode,
    may_approve,
)
from governance.accounts import inactive_error
from layers.departments import DEPARTMENTS
from layers.registry import LAYERS
from opinion.classify import SECTORS, TONES
from opinion.phrases import SECTOR_NAMES
from scenarios.emergency import KIND_TITLES
from scenarios.incidents import STATUS_TITLES
from scenarios.indicators import INDICATORS

router = APIRouter(prefix="/staff", include_in_schema=False)
OPINION_WATCHERS = frozenset({"operator", "leader"})
PEOPLE = frozenset({"operator", "leader", "department_editor", "commune_editor", "field_staff",
                    "viewer"})


def _importable(p: Principal) -> list[Any]:
    return [layer for layer in LAYERS if import_mode(p, layer) is not None]


# page -> who may open it
PAGES: dict[str, Callable[[Principal], bool]] = {
    "imports": lambda p: bool(_importable(p)),
    "review": lambda p: any(may_approve(p, layer) for layer in LAYERS),
    "indicators": lambda p: p.role in VALUE_EDITORS,
    "incidents": lambda p: p.role in INCIDENT_REPORTERS,
    "opinion": lambda p: p.role in OPINION_WATCHERS,
    "accounts": lambda p: p.role == "operator",
    "audit": lambda p: p.role == "operator",
    "deadlines": lambda p: p.role in ("operator", "leader", "department_editor"),
    "quality": lambda p: p.role in PEOPLE,
    "me": lambda p: p.role in PEOPLE,
}


def _lang(request: Request) -> str:
    return "en" if request.query_params.get("lang") == "en" else "vi"


def _render(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    lang = _lang(request)
    response = templates.TemplateResponse(request, f"staff/{template}.html", {
        "t": words(lang), "lang": lang, "q": "?lang=en" if lang == "en" else "",
        "other": "vi" if lang == "en" else "en", **context}, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _reasons() -> frozenset[str]:
    """The texts a sign-in form may show as why one was sent there (a link cannot make it say
    anything else)."""
    texts = {text for key in ("session_over", "password_changed") for text in WORDS[key]}
    for status in ("locked", "revoked", "expired"):
        err = inactive_error(status)
        texts |= {err.message, err.message_en}
    return frozenset(texts)


REASONS = _reasons()


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> Response:
    """The sign-in form; ``why`` (one of the platform's own messages) explains a forced sign-out."""
    why = request.query_params.get("why", "")
    if why and why not in REASONS:
        why = words(_lang(request))["session_over"]
    return _render(request, "login", why=why, menu=[], principal=None, csrf="", page="login")


def _page(request: Request, page: str, **context: Any) -> Response:
    """The page for the signed-in caller: to the sign-in form without a session, 403 when the
    role may not use it."""
    try:
        principal = current_principal(request)
    except IocError as err:
        principal, why = None, err.message_en if _lang(request) == "en" else err.message
    else:
        why = ""
    if principal is None or principal.is_anonymous or principal.role not in PEOPLE:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        lang = "&lang=en" if _lang(request) == "en" else ""
        return RedirectResponse(f"/staff/login?next={quote(target)}&why={quote(why)}{lang}",
                                status_code=303)
    cookie = session_cookie(request.headers)
    csrf = csrf_token(request.app.state.authenticator.secret, cookie) if cookie else ""
    menu = [name for name, allowed in PAGES.items() if allowed(principal)]
    common = {"menu": menu, "principal": principal, "csrf": csrf, "page": page,
              "department": DEPARTMENTS.get(principal.department or "", {})}
    if page != "home" and page not in menu:
        return _render(request, "forbidden", status=403, **common)
    return _render(request, page, **common, **context)


@router.get("", response_class=HTMLResponse)
def home(request: Request) -> Response:
    """Who is signed in, and the menu."""
    return _page(request, "home")


@router.get("/imports", response_class=HTMLResponse)
def imports(request: Request) -> Response:
    """Upload a file to a layer one may write: check first, then import; recent imports."""
    try:
        layers = _importable(current_principal(request))
    except IocError:
        layers = []
    return _page(request, "imports", layers=layers)


@router.get("/review", response_class=HTMLResponse)
def review(request: Request) -> Response:
    """The queue of pending edits and imports: before/after, conflicts, approve or reject."""
    return _page(request, "review")


def _communes(request: Request) -> list[tuple[str, str]]:
    with raw_cursor(request.app.state.engine) as cur:
        cur.execute("SELECT code, name FROM communes ORDER BY name")
        return [(r[0], r[1]) for r in cur.fetchall()]


@router.get("/indicators", response_class=HTMLResponse)
def indicators(request: Request) -> Response:
    """Enter reported values (a form or a CSV/XLSX upload) and see what was entered."""
    reported = [i for i in INDICATORS if i.kind == "reported"] or list(INDICATORS)
    communes = _communes(request)
    own = current_principal(request).commune_code
    mine = current_principal(request).role == "commune_editor"
    # A commune's editor enters values for its own commune only (the API refuses any other).
    units = [(c, n) for c, n in communes if c == own] if mine else communes
    return _page(request, "indicators", indicators=reported, communes=communes, units=units,
                 any_unit=not mine)


@router.get("/incidents", response_class=HTMLResponse)
def incidents(request: Request) -> Response:
    """Open, move along and close incidents; their impact."""
    return _page(request, "incidents", kinds=KIND_TITLES, statuses=STATUS_TITLES)


@router.get("/opinion", response_class=HTMLResponse)
def opinion(request: Request) -> Response:
    """Items gathered online with their predicted labels and place: correct them (training
    data), make one a case or an incident; the model versions and a retraining."""
    try:
        principal: Principal | None = current_principal(request)
    except IocError:
        principal = None
    sectors = {s: SECTOR_NAMES[s] if _lang(request) == "vi" else s.replace("_", " ")
               for s in SECTORS}
    return _page(request, "opinion", sectors=sectors, tones=TONES, communes=_communes(request),
                 may_open_incident=bool(principal and principal.role in INCIDENT_REPORTERS),
                 may_retrain=bool(principal and principal.role == "operator"))


@router.get("/accounts", response_class=HTMLResponse)
def accounts(request: Request) -> Response:
    """The operators' account list: create, lock, unlock, revoke, reset a password."""
    return _page(request, "accounts", departments=DEPARTMENTS, communes=_communes(request))


@router.get("/audit", response_class=HTMLResponse)
def audit(request: Request) -> Response:
    """The audit log with filters, and the chain's verification."""
    return _page(request, "audit")


@router.get("/deadlines", response_class=HTMLResponse)
def deadlines(request: Request) -> Response:
    """The deadline sweep's warnings and escalations of feedback cases; mark one seen."""
    return _page(request, "deadlines")


@router.get("/quality", response_class=HTMLResponse)
def quality(request: Request) -> Response:
    """Correct, complete, clean and live scores per layer; harvested sources that are down."""
    from harvest.sources import stale

    with request.app.state.engine.connect() as conn:
        down = stale(conn)
    return _page(request, "quality", harvest_stale=down)


@router.get("/me", response_class=HTMLResponse)
def me(request: Request) -> Response:
    """Change one's password; see and end one's sessions."""
    return _page(request, "me")
