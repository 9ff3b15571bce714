"""The console's pages: server-rendered HTML in the user's language, driven by small JavaScript modules that
call the API. A page asked for without a session sends the browser to the login; a page the role does not
allow answers 403 (and is written to the audit log)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from jinja2.utils import htmlsafe_json_dumps

from vigil import __version__
from vigil.api.auth import Caller
from vigil.api.context import Api
from vigil.api.i18n import HTML_LANG, LANGUAGES, pick_language, script_messages, translations
from vigil.domain.access import Action

WEB = Path(__file__).resolve().parent.parent / "web"
LANG_COOKIE = "vigil_lang"

Needs = Action | tuple[Action, ...] | None  # what the role must allow (any of a tuple); None: every logged-in user

# (path, template, what the role must allow)
PAGES: tuple[tuple[str, str, Needs], ...] = (
    ("/", "wall.html", Action.LIVE),
    ("/playback", "playback.html", Action.PLAYBACK),
    ("/events", "events.html", Action.EVENTS),
    ("/alarms", "alarms.html", Action.EVENTS),
    ("/incidents", "incidents.html", Action.EVENTS),
    ("/plans", "plans.html", Action.ADMIN),
    ("/health", "health.html", Action.HEALTH),
    ("/equipment", "equipment.html", (Action.MAINTENANCE, Action.REPORTS)),
    ("/maintenance", "maintenance.html", (Action.MAINTENANCE, Action.REPORTS)),
    ("/audit", "audit.html", Action.AUDIT),
    ("/users", "users.html", Action.ADMIN),
    ("/settings", "settings.html", Action.ADMIN),
    ("/evidence", "evidence.html", (Action.EXPORT, Action.AUDIT)),
    ("/storage", "storage.html", Action.HEALTH),
    ("/account", "account.html", None),
)


def N_(message: str) -> str:  # noqa: N802 (the gettext convention)
    """Marks a message for the catalogs (``tools/i18n.py``); translated where it is shown."""
    return message


# (path, message id, what the user needs to see it in the navigation)
NAV: tuple[tuple[str, str, Needs], ...] = (
    ("/", N_("Live"), Action.LIVE),
    ("/playback", N_("Playback"), Action.PLAYBACK),
    ("/events", N_("Events"), Action.EVENTS),
    ("/alarms", N_("Alarms"), Action.EVENTS),
    ("/incidents", N_("Incidents"), Action.EVENTS),
    ("/plans", N_("Plans"), Action.ADMIN),
    ("/health", N_("Health"), Action.HEALTH),
    ("/equipment", N_("Equipment"), (Action.MAINTENANCE, Action.REPORTS)),
    ("/maintenance", N_("Maintenance"), (Action.MAINTENANCE, Action.REPORTS)),
    ("/audit", N_("Audit log"), Action.AUDIT),
    ("/users", N_("Users"), Action.ADMIN),
    ("/evidence", N_("Evidence"), (Action.EXPORT, Action.AUDIT)),
    ("/storage", N_("Storage"), Action.HEALTH),
    ("/settings", N_("Settings"), Action.ADMIN),
)


def allows(principal: Any, needs: Needs) -> bool:
    if needs is None:
        return True
    wanted = needs if isinstance(needs, tuple) else (needs,)
    return any(principal.may(a) for a in wanted)


def templates_in(language: str) -> Jinja2Templates:
    """The templates with ``_()`` translating into ``language`` (one environment per language: no shared state
    between requests)."""
    env = Environment(
        loader=FileSystemLoader(str(WEB / "templates")),
        autoescape=select_autoescape(),
        extensions=["jinja2.ext.i18n"],
    )
    trans = translations(language)
    env.install_gettext_callables(trans.gettext, trans.ngettext, newstyle=True)  # type: ignore[attr-defined]
    return Jinja2Templates(env=env)


def page_router(api: Api) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    templates = {language: templates_in(language) for language in LANGUAGES}

    def render(
        request: Request, template: str, caller: Caller | None, status_code: int = 200, **context: Any
    ) -> HTMLResponse:
        cfg = api.deps.config
        wanted = None
        if caller is not None:
            wanted = api.deps.accounts.user(caller.username).language
        language = pick_language(wanted or request.cookies.get(LANG_COOKIE), request.headers.get("accept-language", ""))
        trans = translations(language)
        nav = [
            (path, trans.gettext(label), path == request.url.path)
            for path, label, action in NAV
            if caller is not None and allows(caller.principal, action)
        ]
        page = {
            "timezone": cfg.site.timezone,
            "language": language,
            "csrf": caller.csrf if caller else "",
            "user": caller.username if caller else "",
            "role": caller.principal.role.value if caller else "",
            "may": [a.value for a in Action if caller is not None and caller.principal.may(a)],
            "reasons": list(cfg.security.require_reason_for),
        }
        return templates[language].TemplateResponse(
            request,
            template,
            {
                "site": cfg.site,
                "version": __version__,
                "lang": HTML_LANG[language],
                "language": language,
                "languages": LANGUAGES,
                "nav": nav,
                "caller": caller,
                "page_json": htmlsafe_json_dumps(page),  # <, >, & and ' escaped: safe inside a script element
                "messages_json": htmlsafe_json_dumps(script_messages(language)),
                **context,
            },
            status_code=status_code,
            headers={"Cache-Control": "no-store"},
        )

    def page(request: Request, template: str, action: Needs, **context: Any) -> Response:
        caller = api.auth.optional(request)
        if caller is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
        if caller.principal.must_change_password and template != "account.html":
            return RedirectResponse("/account", status_code=303)
        if not allows(caller.principal, action):
            if request.url.path == "/":  # the home page: the first page of the navigation they may open
                first = next((path for path, _, needs in NAV if allows(caller.principal, needs)), None)
                if first is not None and first != "/":
                    return RedirectResponse(first, status_code=303)
            api.gate.refused(caller.principal, f"page {request.url.path}", caller.client)
            return render(request, "refused.html", caller, status_code=403)
        return render(request, template, caller, **context)

    @router.get("/login", response_class=HTMLResponse)
    def login(request: Request) -> Response:
        return render(request, "login.html", None)

    def add_page(path: str, template: str, action: Needs) -> None:
        def endpoint(request: Request) -> Response:
            return page(request, template, action)

        router.add_api_route(path, endpoint, methods=["GET"], response_class=HTMLResponse)

    for path, template, action in PAGES:
        add_page(path, template, action)

    return router
