"""API errors as RFC 9457 problem details (`application/problem+json`).

Every error the service answers, FastAPI's own included, is one object: `type` (a URI naming
the kind of problem, `urn:extractor:problem:<code>`), `title`, `status`, `detail` (this
occurrence, one line), `instance` (the request path), `request_id` (as in the access log and
the `X-Request-Id` header) and `code` (the short machine-readable kind, e.g. `not_found`,
`extraction_failed.timeout`). A validation error lists every problem found in `errors`.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import Scope, Send

from ..errors import ConfigError, ExtractionFailed, ExtractorError, InputError

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:extractor:problem:"


class ApiError(Exception):
    """An error answered as a problem: status, a short machine-readable code and a detail line."""

    def __init__(
        self,
        status: int,
        type_: str,
        message: str,
        headers: dict[str, str] | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.type = type_
        self.message = message
        self.headers = headers or {}
        self.errors = errors


def problem_body(request: Request, status: int, code: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": TYPE_PREFIX + code,
        "title": HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error",
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "request_id": request.scope.get("state", {}).get("request_id", ""),
        "code": code,
        **extra,
    }


def problem(
    request: Request, status: int, code: str, detail: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body = problem_body(request, status, code, detail, **extra)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


async def send_problem(scope: Scope, send: Send, status: int, code: str, detail: str) -> None:
    """A problem answered by ASGI middleware, before or outside any route."""
    body = {
        "type": TYPE_PREFIX + code,
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": scope.get("path", ""),
        "request_id": scope.get("state", {}).get("request_id", ""),
        "code": code,
    }
    payload = json.dumps(body).encode()
    headers = [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(payload)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def from_extractor_error(error: ExtractorError) -> ApiError:
    """The HTTP face of the extractor's named errors."""
    message = str(error).splitlines()[0] if str(error) else type(error).__name__
    if isinstance(error, InputError):
        return ApiError(422, "invalid_input", message)
    if isinstance(error, ExtractionFailed):
        # 502: the model server, not this request, is what went wrong; the cause says how.
        return ApiError(502, f"extraction_failed.{error.cause}", message)
    if isinstance(error, ConfigError):
        return ApiError(503, "provider_unavailable", message)
    return ApiError(500, "internal_error", message)


def validation_errors(errors: Any) -> list[dict[str, Any]]:
    """Every problem pydantic found: where (`loc`), what (`msg`) and its kind (`type`)."""
    return [
        {"loc": list(error.get("loc", ())), "msg": error.get("msg", ""), "type": error.get("type", "")}
        for error in errors
    ]


def summary(errors: list[dict[str, Any]]) -> str:
    first = errors[0] if errors else {}
    where = ".".join(str(part) for part in first.get("loc", ()))
    message = f"{where}: {first.get('msg', 'invalid request')}" if where else first.get("msg", "invalid request")
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return message + more


def install_handlers(app: FastAPI) -> None:
    """Make every error, FastAPI's own included, answer as a problem."""

    @app.exception_handler(ApiError)
    async def _api(request: Request, exc: ApiError) -> JSONResponse:
        extra = {"errors": exc.errors} if exc.errors is not None else {}
        return problem(request, exc.status, exc.type, exc.message, exc.headers, **extra)

    @app.exception_handler(ExtractorError)
    async def _extractor(request: Request, exc: ExtractorError) -> JSONResponse:
        api = from_extractor_error(exc)
        return problem(request, api.status, api.type, api.message)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = validation_errors(exc.errors())
        return problem(request, 422, "invalid_request", summary(errors), errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {401: "unauthorized", 404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request))
        return problem(request, exc.status_code, code, str(exc.detail), headers or None)


METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of this path answers (FastAPI has one route per method)."""
    routes = request.app.router.routes
    return [
        method
        for method in METHODS
        if any(route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes)
    ]
