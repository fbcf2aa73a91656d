"""`GET /dashboard` (the page), `/dashboard/data.json` (what it draws) and `/dashboard/assets/*`.

The page carries its data inline, so one request shows everything; its scripts and styles come
from this server only (a Content-Security-Policy says so to the browser), never from a CDN. With
principals configured, the page and its data need one (any role: `auth.reader`)."""

from __future__ import annotations

from html import escape
from pathlib import Path
from string import Template
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import FileResponse, HTMLResponse

from arbiter.gateway.auth import reader
from arbiter.gateway.http import HttpError
from arbiter.insights.dashboard import dashboard_data
from arbiter.insights.reporting import Window, parse_since
from models.detectors import DETECTORS

router = APIRouter(tags=["dashboard"])
STATIC = Path(__file__).resolve().parent / "static"
ASSETS = {"chart.umd.min.js": "text/javascript", "dashboard.js": "text/javascript", "dashboard.css": "text/css"}
PAGE = Template((STATIC / "dashboard.html").read_text())
POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
          "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def _window(detector: str | None, since: str | None) -> Window:
    errors = []
    if detector is not None and detector not in DETECTORS:
        errors.append({"field": "detector", "message": f"unknown detector; known: {', '.join(sorted(DETECTORS))}"})
    moment = None
    if since:
        try:
            moment = parse_since(since)
        except ValueError as exc:
            errors.append({"field": "since", "message": str(exc).removeprefix("--since ")})
    if errors:
        raise HttpError(422, "invalid query", errors)
    return Window(detector or None, moment)


def _data(request: Request, detector: str | None, since: str | None) -> dict[str, Any]:
    return dashboard_data(request.app.state.platform, _window(detector, since))


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(request: Request, detector: str | None = None, since: str | None = None,
              _: str | None = Depends(reader)) -> HTMLResponse:
    """The strategists' page: ROC curves, score histograms, daily AUC and decision rates, shadow
    coverage, drift and the promotion history; `?detector=` and `?since=` (ISO 8601 or 7d) narrow it."""
    data = _data(request, detector, since)
    # inside <script type="application/json">: no "</script>" may appear, whatever a model is named
    inline = orjson.dumps(data).decode().replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    html = PAGE.substitute(data=inline, scope=escape(_scope(data)))
    return HTMLResponse(html, headers={"Content-Security-Policy": POLICY, "Cache-Control": "no-store"})


@router.get("/dashboard/data.json")
def dashboard_json(request: Request, detector: str | None = None, since: str | None = None,
                   _: str | None = Depends(reader)) -> Response:
    """What the page draws, as JSON."""
    return Response(orjson.dumps(_data(request, detector, since)), media_type="application/json",
                    headers={"Cache-Control": "no-store"})


@router.get("/dashboard/assets/{name}")
def asset(name: str) -> FileResponse:
    """The page's own scripts and styles (a fixed list: nothing else on disk is reachable)."""
    if name not in ASSETS:
        raise HttpError(404, f"no asset {name!r}")
    return FileResponse(STATIC / name, media_type=ASSETS[name], headers={"Cache-Control": "max-age=3600"})


def _scope(data: dict[str, Any]) -> str:
    parts = [data["detector"] or "all detectors"]
    if data["since"]:
        parts.append(f"since {data['since'][:16].replace('T', ' ')} UTC")
    return ", ".join(parts)
