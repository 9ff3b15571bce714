"""The FastAPI application: the REST API under ``/api/v1`` (described by OpenAPI at ``/api/v1/openapi.json``)
and the console's pages. Every route but the login asks who is calling (``vigil.api.auth``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.openapi.utils import get_openapi
from fastapi.staticfiles import StaticFiles

from vigil import __version__
from vigil.api.admin_routes import admin_router
from vigil.api.alarm_routes import alarm_router
from vigil.api.auth import Authenticator
from vigil.api.authority_routes import authority_router
from vigil.api.availability_routes import availability_router
from vigil.api.camera_routes import camera_router
from vigil.api.context import Api
from vigil.api.deps import ApiDeps
from vigil.api.equipment_routes import equipment_router
from vigil.api.errors import install_error_handlers
from vigil.api.event_routes import event_router
from vigil.api.evidence_routes import evidence_router
from vigil.api.incident_routes import incident_router
from vigil.api.inspection_routes import inspection_router
from vigil.api.live_routes import live_router
from vigil.api.notification_routes import notification_router
from vigil.api.pages import WEB, page_router
from vigil.api.session_routes import session_router
from vigil.api.settings_routes import settings_router
from vigil.api.storage_routes import storage_router
from vigil.api.ticket_routes import ticket_router
from vigil.api.wall_routes import wall_router
from vigil.domain.errors import ErrorKind
from vigil.usecases.footage_access import FootageGate

API_DESCRIPTION = """\
Vigil's REST API. Authenticate with the console's session cookie (log in with `POST /api/v1/session`; send the
`csrf_token` it returns in `X-CSRF-Token` with every state-changing request) or with an API token
(`Authorization: Bearer vgl_...`, issued by an admin). Errors are `{"error": {"kind": ..., "message": ...}}`;
lists are pages `{"items": [...], "next_cursor": ...}` (pass `cursor=<next_cursor>` for the next page)."""

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; "
    "style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["kind", "message"],
            "properties": {
                "kind": {"type": "string", "enum": [k.value for k in ErrorKind]},
                "message": {"type": "string"},
            },
        }
    },
}
ERROR_STATUSES = {"400": "Bad request", "401": "Not logged in", "403": "Not allowed", "404": "Not found"}


def describe_errors(app: FastAPI) -> None:
    """The document says what the API does: errors are ``{"error": {kind, message}}`` with 400 for bad input
    (FastAPI's default 422 and its validation shape are never sent)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            doc.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
            for name in ("HTTPValidationError", "ValidationError"):
                doc["components"]["schemas"].pop(name, None)
            for methods in doc.get("paths", {}).values():
                for operation in methods.values():
                    responses = operation.setdefault("responses", {})
                    responses.pop("422", None)
                    for status, text in ERROR_STATUSES.items():
                        responses.setdefault(
                            status,
                            {
                                "description": text,
                                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                            },
                        )
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(deps: ApiDeps) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        if deps.live is not None:
            await deps.live.close()  # stops the live readers with the server

    app = FastAPI(
        lifespan=lifespan,
        title="Vigil",
        version=__version__,
        description=API_DESCRIPTION,
        docs_url=None,  # the Swagger page loads its scripts from a CDN: the schema alone is served
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
    )
    install_error_handlers(app)
    gate = FootageGate(lambda: deps.config, deps.audit, deps.clock, holds=deps.holds)
    api = Api(deps, Authenticator(deps.accounts), gate)

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.url.path.startswith("/api/"):
            response.headers.setdefault("Cache-Control", "no-store")
        if request.url.scheme == "https":
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response

    describe_errors(app)
    app.mount("/static", StaticFiles(directory=str(WEB / "static")), name="static")
    routers = (session_router, camera_router, event_router, live_router, wall_router, admin_router)
    more = (settings_router, evidence_router, authority_router, notification_router, alarm_router, incident_router)
    upkeep = (ticket_router, equipment_router, availability_router, inspection_router, storage_router)
    for router in (*routers, *more, *upkeep, page_router):
        app.include_router(router(api))
    return app
