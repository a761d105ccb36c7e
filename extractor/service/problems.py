"""API errors: every failure is `{"error": {"type", "message"}}` with a fitting status code."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import ConfigError, ExtractionFailed, ExtractorError, InputError


class ApiError(Exception):
    """An error answered as JSON: status, a short machine-readable type and a message."""

    def __init__(self, status: int, type_: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.type = type_
        self.message = message
        self.headers = headers or {}


def error_body(type_: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"type": type_, "message": message, **extra}}


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


def install_handlers(app: FastAPI) -> None:
    """Make every error, FastAPI's own included, answer in the one error shape."""

    @app.exception_handler(ApiError)
    async def _api(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(error_body(exc.type, exc.message), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(ExtractorError)
    async def _extractor(_: Request, exc: ExtractorError) -> JSONResponse:
        api = from_extractor_error(exc)
        return JSONResponse(error_body(api.type, api.message), status_code=api.status)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()))
        message = f"{where}: {first.get('msg', 'invalid request')}" if where else first.get("msg", "invalid request")
        return JSONResponse(error_body("invalid_request", message), status_code=422)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # A bug, not the caller's fault: the same error shape, without internals (the server
        # log has the traceback; the request id ties the two together).
        request_id = request.scope.get("state", {}).get("request_id", "")
        message = f"internal error ({type(exc).__name__}); request id {request_id}"
        return JSONResponse(error_body("internal_error", message), status_code=500)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        type_ = {401: "unauthorized", 404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(
            error_body(type_, str(exc.detail)), status_code=exc.status_code, headers=getattr(exc, "headers", None)
        )
