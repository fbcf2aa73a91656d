"""The FastAPI application: scoring, operations and admin routes over one composed platform."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from arbiter.bootstrap import Platform
from arbiter.domain.errors import ArbiterError
from arbiter.gateway import metrics, routes_admin, routes_dashboard, routes_ops, routes_outcomes, routes_scoring
from arbiter.gateway.fast_path import FastScoringApp
from arbiter.gateway.http import error_answer, error_response
from arbiter.insights.operations import OperationsCache
from arbiter.serving.fanout import Fanout
from arbiter.serving.scoring import Scorer
from arbiter.serving.state import ServingState
from models.detectors import DETECTORS

log = logging.getLogger("arbiter.gateway")
NO_TELEMETRY = {"tracing": False, "metrics": False, "logs": False, "operation_spans": False, "auto_configure": False}


def create_app(platform: Platform, *, refresh_interval: float = 0.5) -> FastScoringApp:
    """The gateway for `platform` (the FastAPI application behind the scoring fast path); the
    serving state starts watching with the app's lifespan."""
    serving = ServingState(platform.sessions, platform.settings.registry_dir, platform.identity_key,
                           interval=refresh_interval)
    fanout = Fanout(platform)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        serving.start()
        fanout.start()
        yield
        serving.stop()
        fanout.close()

    # no /docs or /redoc: FastAPI serves them from a CDN, and nothing here may load from outside;
    # the schema itself stays at /openapi.json
    # telemetry: FastAPI's built-in OpenTelemetry hooks are switched off entirely (no exporters,
    # no per-request spans); Arbiter's own metrics are on /metrics.
    app = FastAPI(title="Arbiter", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Champion/challenger model serving for fraud detection.", telemetry=NO_TELEMETRY)
    app.state.platform = platform
    app.state.serving = serving
    app.state.fanout = fanout
    app.state.operations = OperationsCache(platform, platform.settings.operations_interval)
    # ARBITER_EXPLANATION_TOP read once, not on every request
    tops = {name: platform.settings.top_reasons(name) for name in DETECTORS}
    app.state.scorer = Scorer(serving, platform.hasher, sink=fanout.sink, explain=platform.settings.explanations,
                             top=tops)
    app.state.api_keys = platform.settings.api_key_set
    app.state.admin_token = platform.settings.admin_token.get_secret_value() if platform.settings.admin_token else None
    for router in (routes_scoring.router, routes_outcomes.router, routes_ops.router, routes_admin.router,
                   routes_dashboard.router):
        app.include_router(router)
    _install_error_handlers(app)
    _document_fast_path(app)
    return FastScoringApp(app)


def _document_fast_path(app: FastAPI) -> None:
    """/openapi.json describes each detector's scoring calls (`routes_scoring.detector_operations`): the single
    call has no FastAPI route (the fast path answers it), and the batch route's is generic."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description,
                                 routes=app.routes)
            schema["paths"].update(routes_scoring.detector_operations())
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _install_error_handlers(app: FastAPI) -> None:
    def count(request: Request, status: int) -> None:
        route = request.scope.get("route")
        metrics.ERRORS.labels(getattr(route, "path", "unmatched"), str(status)).inc()

    @app.exception_handler(ArbiterError)
    async def _refused(request: Request, exc: ArbiterError) -> JSONResponse:
        status, body, headers = error_answer(exc)
        count(request, status)
        return JSONResponse(body, status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        count(request, 422)
        errors = [{"field": ".".join(str(p) for p in e["loc"] if p != "body") or "body", "message": e["msg"]}
                  for e in exc.errors()]
        return error_response(422, "invalid request", errors)

    @app.exception_handler(StarletteHTTPException)
    async def _starlette_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        count(request, exc.status_code)
        response = error_response(exc.status_code, str(exc.detail))
        response.headers.update(exc.headers or {})  # a 405's Allow
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        count(request, 500)
        log.exception("unexpected error on %s", request.url.path)
        return error_response(500, "internal error; it has been logged")
