"""The single-application scoring call as a plain ASGI handler, in front of FastAPI.

`POST /v1/detectors/{detector}/score` is the call the application service makes for every
application, and FastAPI's routing, dependency solving and middleware stack cost about as much
as scoring itself. This handler answers exactly that call (same checks, same errors, same
metrics, same response) and hands everything else, including the OpenAPI description of the
same route, to the FastAPI application it wraps. Attributes (`state`, `routes`, ...) are the
wrapped application's.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import FastAPI

from arbiter.domain.errors import ArbiterError
from arbiter.gateway import metrics
from arbiter.gateway.auth import check_key
from arbiter.gateway.http import (
    SINGLE_LIMIT,
    HttpError,
    check_declared_length,
    error_answer,
    error_body,
    parse_json,
    too_large,
)
from arbiter.gateway.routes_scoring import SERVED_BY, observe
from arbiter.serving.scoring import check_envelope

log = logging.getLogger("arbiter.gateway")
PREFIX, SUFFIX = "/v1/detectors/", "/score"
ROUTE = "/v1/detectors/{detector}/score"
_JSON = (b"content-type", b"application/json")
_SERVED_BY = [(k.lower().encode(), v.encode()) for k, v in SERVED_BY.items()]
_ALLOW_POST = [(b"allow", b"POST")]


class Disconnected(Exception):
    """The client went away before sending the whole body."""


class FastScoringApp:
    """ASGI application: the scoring fast path, then the FastAPI application."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def __getattr__(self, name: str) -> Any:
        return getattr(self.app, name)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            if path.startswith(PREFIX) and path.endswith(SUFFIX):
                detector = path[len(PREFIX):-len(SUFFIX)]
                if detector and "/" not in detector:
                    if scope["method"] == "POST":
                        await self._score(scope, receive, send, detector)
                    else:  # the route exists for POST only
                        await _answer(send, 405, orjson.dumps(error_body("Method Not Allowed")), _ALLOW_POST)
                    return
        await self.app(scope, receive, send)

    async def _score(self, scope: dict, receive: Any, send: Any, detector: str) -> None:
        state = self.app.state
        headers = dict(scope["headers"])
        extra: list[tuple[bytes, bytes]] = []
        try:
            given = headers.get(b"x-api-key")
            check_key(given.decode("latin-1") if given else None, state.api_keys)
            scorer = state.scorer
            scorer.detector_state(detector)  # 404 before reading the body
            declared = headers.get(b"content-length")
            check_declared_length(declared.decode("latin-1") if declared else None, SINGLE_LIMIT)
            application, errors = check_envelope(parse_json(await _read_body(receive, SINGLE_LIMIT)))
            if errors or application is None:
                raise HttpError(422, "invalid request body", errors)
            result = scorer.score(detector, [application])[0]
            observe([result], detector)
            status, body = 200, orjson.dumps(result)
            extra = _SERVED_BY
        except Disconnected:
            return
        except ArbiterError as exc:
            status, answer, headers = error_answer(exc)
            body = orjson.dumps(answer)
            metrics.ERRORS.labels(ROUTE, str(status)).inc()
            extra = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        except Exception:
            log.exception("unexpected error on %s", scope["path"])
            metrics.ERRORS.labels(ROUTE, "500").inc()
            status, body = 500, orjson.dumps(error_body("internal error; it has been logged"))
        await _answer(send, status, body, extra)


async def _answer(send: Any, status: int, body: bytes, extra: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [_JSON, (b"content-length", str(len(body)).encode()), *extra]})
    await send({"type": "http.response.body", "body": body})


async def _read_body(receive: Any, limit: int) -> bytes:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise Disconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)
