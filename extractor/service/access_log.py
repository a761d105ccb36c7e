"""One JSON line per request on stderr: request id, route, status, duration, job id.

The request id is the caller's `X-Request-Id` when it sends a sane one (letters, digits and
`._:-`, 128 at most), else one made here; it is echoed in the answer's `X-Request-Id` and
in every problem body. Never the body (article text) and never another header (the API key
travels in one).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .metrics import Metrics
from .problems import send_problem

logger = logging.getLogger("extractor.service.access")
REQUEST_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")


def configure_access_log() -> None:
    """Send access lines, already JSON, to stderr as they are."""
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def log_event(event: str, **fields: Any) -> None:
    """A JSON line for something that is not a request (a job stopped by an error, say)."""
    logger.info(json.dumps({"event": event, **fields}))


def _route(scope: Scope) -> str:
    """The route template (`/v1/jobs/{job_id}`), so metrics do not grow a label per job."""
    route = scope.get("route")
    return getattr(route, "path", None) or "unmatched"


class AccessLog:
    """ASGI middleware: time each request, give it an id, log it and count it."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((value for name, value in scope["headers"] if name == b"x-request-id"), b"")
        request_id = given.decode() if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex[:16]
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        started_answer = False

        async def send_tracked(message: Message) -> None:
            nonlocal started_answer
            started_answer = started_answer or message["type"] == "http.response.start"
            await send_with_id(message)

        self.metrics.requests_in_flight.inc()
        try:
            await self.app(scope, receive, send_tracked)
        except Exception as error:
            # A bug, not the caller's fault: the traceback goes to the log, the caller gets a
            # problem without internals, tied to the log line by the request id.
            logger.exception("unexpected error, request id %s", request_id)
            if started_answer:
                raise
            detail = f"internal error ({type(error).__name__}); request id {request_id}"
            await send_problem(scope, send_with_id, 500, "internal_error", detail)
        finally:
            self.metrics.requests_in_flight.dec()
            route = _route(scope)
            self.metrics.requests.labels(route, scope["method"], str(status)).inc()
            entry: dict[str, Any] = {
                "request_id": request_id,
                "method": scope["method"],
                "route": route,
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            }
            job_id = (scope.get("path_params") or {}).get("job_id") or scope["state"].get("job_id")
            if job_id:
                entry["job_id"] = job_id
            logger.info(json.dumps(entry))
