"""The HTTP routes: `/v1` (behind the API key) and the operational ones."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse
from pydantic import ValidationError
from pydantic_core import to_json

from ..schemas import ArticleExtraction
from .auth import Caller, bearer, caller_of, require_key
from .db import JobRow
from .idempotency import fingerprint, idempotency_key, idempotent, pending_answer, replay
from .intake import records_from_json, records_from_ndjson
from .limits import read_body
from .models import (
    ArticleRecord,
    Health,
    JobAccepted,
    JobList,
    JobObject,
    JobRequest,
    Readiness,
)
from .openapi import NDJSON, body_of, problems
from .problems import ApiError, summary, validation_errors
from .reading import failure_line, result_line, review_items, review_page
from .state import ServiceState

# NDJSON is UTF-8 (RFC 8259); saying so keeps a browser from reading it as Latin-1.
NDJSON_UTF8 = f"{NDJSON}; charset=utf-8"

Grounding = Annotated[
    Literal["strict", "flag", "off"] | None, Query(description="strict | flag | off (default: the server's setting)")
]
After = Annotated[str | None, Query(max_length=512, description="the id of the last item of the previous page")]
PageLimit = Annotated[int, Query(ge=1, le=100, description="items per page")]
Triage = Annotated[
    bool,
    Query(description="skip, without a model call, articles in which the rules find no candidate of any type"),
]
StreamLimit = Annotated[int | None, Query(ge=1, le=10_000, description="at most this many lines (default: all)")]

api = APIRouter(prefix="/v1", dependencies=[Depends(require_key)])
ops = APIRouter()
CallerDep = Annotated[Caller, Depends(require_key)]


def _state(request: Request) -> ServiceState:
    state: ServiceState = request.app.state.service_state
    return state


def _media_type(request: Request, allowed: tuple[str, ...]) -> str:
    """The body's media type (JSON when none is given); 415 for another."""
    given = request.headers.get("content-type", "").split(";")[0].strip().lower() or "application/json"
    if given not in allowed:
        raise ApiError(415, "unsupported_media_type", f"send {' or '.join(allowed)}, not {given}")
    return given


def _invalid(error: ValidationError) -> ApiError:
    errors = validation_errors(error.errors())
    return ApiError(422, "invalid_input", summary(errors), errors=errors)


# -- extraction ------------------------------------------------------------------------------


async def _until_disconnected(request: Request) -> None:
    """Return once the client has gone (the body is read: the next message is the disconnect)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


@api.post(
    "/extract",
    response_model=ArticleExtraction,
    openapi_extra=body_of(ArticleRecord),
    responses=problems(401, 409, 413, 415, 422, 429, 502, 503),
)
async def extract(request: Request, caller: CallerDep, grounding: Grounding = None) -> Response:
    """Extract one article now and answer with its ArticleExtraction.

    A client that disconnects before the answer cancels the extraction: a request still
    waiting for a model slot is never sent.
    """
    state = _state(request)
    _media_type(request, ("application/json",))
    body = await read_body(request, state.service.max_body_bytes)
    try:
        record = ArticleRecord.model_validate_json(body)
    except ValidationError as error:
        raise _invalid(error) from None
    state.check_text(record.text)

    async def run() -> Response:
        engine = state.engine
        article = engine.article(record.as_record(), "body")
        with engine.gate.admit():
            extraction = asyncio.ensure_future(engine.extract(article, grounding, caller.key_id))
            gone = asyncio.ensure_future(_until_disconnected(request))
            try:
                await asyncio.wait({extraction, gone}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                gone.cancel()
                if not extraction.done():
                    extraction.cancel()
                    await asyncio.gather(extraction, return_exceptions=True)
            if extraction.cancelled():
                state.metrics.abandoned.inc()
                return Response(status_code=499)  # nginx's "client closed request": nobody reads it
            result = extraction.result()
        return Response(result.model_dump_json(), media_type="application/json")

    return await idempotent(request, caller, state.db, body, run)


# -- jobs ------------------------------------------------------------------------------------


@api.post(
    "/jobs",
    status_code=202,
    response_model=JobAccepted,
    openapi_extra=body_of(JobRequest, ndjson=True),
    responses=problems(401, 409, 413, 415, 422, 429, 503),
)
async def create_job(
    request: Request, caller: CallerDep, grounding: Grounding = None, triage: Triage = False
) -> Response:
    """Queue many articles (JSON `{"articles": [...]}` or NDJSON); answers once they are stored.

    With triage (`?triage=true`, or `"triage": true` in a JSON body) an article in which the
    rules find no candidate is skipped: never sent, counted in `counts.skipped`, no result.
    """
    state = _state(request)
    media_type = _media_type(request, ("application/json", NDJSON))
    body = await read_body(request, state.service.max_body_bytes)
    key = idempotency_key(request)
    print_ = fingerprint(request, body)
    if key is not None and (found := await asyncio.to_thread(state.db.answer, caller.key_id, key)):
        return replay(found, print_)
    if media_type == NDJSON:
        lines = records_from_ndjson(body)
    else:
        try:
            lines, asked = records_from_json(body)
            triage = triage or asked
        except ValidationError as error:
            raise _invalid(error) from None
    answer = None if key is None else pending_answer(caller, key, print_)
    stored = await state.jobs.create(caller, lines, grounding, answer, triage=triage)
    if not isinstance(stored, JobRow):
        return replay(stored, print_)
    request.state.job_id = stored.id
    described = state.jobs.describe(stored)
    accepted = {name: described[name] for name in ("id", "object", "status", "counts")}
    return JSONResponse(accepted, status_code=202, headers={"Location": f"/v1/jobs/{stored.id}"})


def _json(document: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON answer serialized in one go (pydantic-core), not validated again against its model."""
    return Response(to_json(document), status_code=status_code, headers=headers, media_type="application/json")


@api.get("/jobs", response_model=JobList, responses=problems(401, 422))
async def list_jobs(request: Request, caller: CallerDep, after: After = None, limit: PageLimit = 20) -> Response:
    """The caller's jobs (an admin's: everyone's), newest first, a page at a time."""
    return _json(await _state(request).jobs.list(caller, after=after, limit=limit))


@api.get("/jobs/{job_id}", response_model=JobObject, responses=problems(401, 404, 422))
async def get_job(request: Request, caller: CallerDep, job_id: str) -> Response:
    jobs = _state(request).jobs
    return _json(jobs.describe(await jobs.get(caller, job_id)))


@api.post("/jobs/{job_id}/cancel", response_model=JobObject, responses=problems(401, 404, 409, 422))
async def cancel_job(request: Request, caller: CallerDep, job_id: str) -> Response:
    """Cancel: articles not yet sent never are; the job is `cancelling` until those in flight end."""
    jobs = _state(request).jobs

    async def run() -> Response:
        return JSONResponse(jobs.describe(await jobs.cancel(caller, job_id)))

    return await idempotent(request, caller, _state(request).db, b"", run)


@api.post("/jobs/{job_id}/retry", response_model=JobObject, responses=problems(401, 404, 409, 422))
async def retry_job(request: Request, caller: CallerDep, job_id: str) -> Response:
    """Requeue a finished job's failed (and cancelled) articles, under a new deadline."""
    jobs = _state(request).jobs

    async def run() -> Response:
        return JSONResponse(jobs.describe(await jobs.retry(caller, job_id)))

    return await idempotent(request, caller, _state(request).db, b"", run)


@api.delete("/jobs/{job_id}", responses=problems(401, 404, 409, 422))
async def delete_job(request: Request, caller: CallerDep, job_id: str) -> dict[str, Any]:
    """Remove a finished job and everything stored for it (409 while it runs: cancel it first)."""
    await _state(request).jobs.delete(caller, job_id)
    return {"id": job_id, "object": "job.deleted", "deleted": True}


def _next_link(request: Request, last: str) -> str:
    query = {name: value for name, value in request.query_params.items() if name != "after"}
    return f"{request.url.path}?{urlencode({**query, 'after': last})}"


async def _ndjson(
    request: Request, caller: Caller, job_id: str, statuses: tuple[str, ...], after: str | None,
    limit: int | None, follow: bool, line: Any,
) -> StreamingResponse:  # fmt: skip
    state = _state(request)
    job = await state.jobs.get(caller, job_id)
    start = await state.reader.position(job, after)
    headers: dict[str, str] = {}
    if limit is not None and not follow:
        rows = await state.reader.page(job, statuses, start, limit + 1)
        if len(rows) > limit:
            rows = rows[:limit]
            headers["Link"] = f'<{_next_link(request, rows[-1].key)}>; rel="next"'

        async def page() -> AsyncIterator[bytes]:
            for row in rows:
                yield line(row)

        return StreamingResponse(page(), media_type=NDJSON_UTF8, headers=headers)

    async def lines() -> AsyncIterator[bytes]:
        async for row in state.reader.stream(job, statuses, after=start, limit=limit, follow=follow):
            yield line(row)

    return StreamingResponse(lines(), media_type=NDJSON_UTF8)


@api.get(
    "/jobs/{job_id}/results",
    response_class=StreamingResponse,
    responses={200: {"content": {NDJSON: {"schema": {"type": "string"}}}}, **problems(401, 404, 422)},
)
async def job_results(
    request: Request,
    caller: CallerDep,
    job_id: str,
    follow: Annotated[bool, Query(description="keep streaming until the job ends")] = False,
    after: After = None,
    limit: StreamLimit = None,
) -> StreamingResponse:
    """NDJSON: one ArticleExtraction per done article, in the order they finished.

    `after` (an article id) continues after that article; `limit` makes a page, with a
    `Link: <...>; rel="next"` header when more follow; `follow` streams new results as they
    finish until the job ends, from where it is, never reading a result twice.
    """
    return await _ndjson(request, caller, job_id, ("done",), after, limit, follow, result_line)


@api.get(
    "/jobs/{job_id}/failures",
    response_class=StreamingResponse,
    responses={200: {"content": {NDJSON: {"schema": {"type": "string"}}}}, **problems(401, 404, 422)},
)
async def job_failures(
    request: Request, caller: CallerDep, job_id: str, after: After = None, limit: StreamLimit = None
) -> StreamingResponse:
    """NDJSON: `{"id", "reason", "message", "error_class", "http_status", "attempts", "tries"}` per failed article."""
    return await _ndjson(request, caller, job_id, ("failed",), after, limit, False, failure_line)


@api.get(
    "/jobs/{job_id}/review",
    responses={
        200: {
            "content": {
                "text/html": {"schema": {"type": "string"}},
                "application/json": {"schema": {"$ref": "#/components/schemas/ReviewPage"}},
            }
        },
        **problems(401, 404, 422),
    },
)
async def job_review(
    request: Request,
    caller: CallerDep,
    job_id: str,
    after: After = None,
    limit: Annotated[int, Query(ge=1, le=200, description="articles per page")] = 50,
    format: Annotated[Literal["html", "json"], Query(description="a page to read, or items to render")] = "html",
) -> Response:
    """The review of a page of the job's results (highlighted evidence), in the order they finished.

    `format=html`: a self-contained page with a `rel="next"` link; `format=json`: the items
    (`id`, `result`, `text`) in the list shape, for a page that loads more as the user scrolls.
    """
    state = _state(request)
    job = await state.jobs.get(caller, job_id)
    start = await state.reader.position(job, after)
    rows = await state.reader.page(job, ("done",), start, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    if format == "json":
        data = await asyncio.to_thread(review_items, rows, state.service.state_dir)
        page = {
            "object": "list",
            "data": data,
            "first_id": rows[0].key if rows else None,
            "last_id": rows[-1].key if rows else None,
            "has_more": more,
        }
        return JSONResponse(page)
    next_url = _next_link(request, rows[-1].key) if more else None
    return HTMLResponse(await asyncio.to_thread(review_page, rows, next_url, state.service.state_dir))


@api.get("/usage", responses=problems(401))
async def usage(request: Request, caller: CallerDep) -> dict[str, Any]:
    """Model calls and tokens per UTC day and source (request | job): the caller's, an admin's everyone's."""
    rows = await asyncio.to_thread(_state(request).db.usage_of, None if caller.admin else caller.key_id)
    return {"object": "list", "data": rows}


@api.get("/schema", responses=problems(401))
async def schema() -> dict[str, Any]:
    """The JSON Schema of the ArticleExtraction contract."""
    return ArticleExtraction.model_json_schema()


# -- operations ------------------------------------------------------------------------------


@ops.get("/healthz", response_model=Health)
async def healthz() -> dict[str, str]:
    """The process is up (nothing else is asked: a liveness probe)."""
    return {"status": "ok"}


@ops.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}})
async def readyz(request: Request) -> JSONResponse:
    """Ready: the model server answers, the database reads, the state folder can be written."""
    problems_ = await _state(request).problems()
    if problems_:
        return JSONResponse({"status": "unavailable", "problems": problems_}, status_code=503)
    return JSONResponse({"status": "ready", "problems": []})


@ops.get("/metrics", responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}})
async def metrics(request: Request) -> Response:
    """Prometheus text format (needs a key unless the server runs with --public-metrics)."""
    state = _state(request)
    keys = request.app.state.api_keys
    if keys and not state.service.public_metrics:
        token = bearer(request)
        if not token or caller_of(token, keys) is None:
            raise ApiError(401, "unauthorized", "missing or unknown API key", {"WWW-Authenticate": "Bearer"})
    body = await state.render_metrics()
    return Response(body, media_type=state.metrics.content_type)


__all__ = ["api", "ops"]
