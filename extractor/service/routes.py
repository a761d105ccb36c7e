"""The HTTP routes: `/v1` (behind the API key) and the unauthenticated operational ones."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, StreamingResponse
from pydantic import ValidationError

from ..schemas import ArticleExtraction
from .auth import require_key
from .intake import records_from_json, records_from_ndjson
from .jobs import JobManager
from .limits import read_body
from .models import ArticleRecord, JobAccepted, JobList, JobRequest, JobStatus
from .page import INDEX_HTML
from .problems import ApiError

NDJSON = "application/x-ndjson"
Grounding = Literal["strict", "flag", "off"] | None
GroundingQuery = Query(None, description="strict | flag | off (default: the server's setting)")

api = APIRouter(prefix="/v1", dependencies=[Depends(require_key)])
ops = APIRouter()


def _manager(request: Request) -> JobManager:
    return request.app.state.jobs


def _invalid(error: ValidationError) -> ApiError:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return ApiError(422, "invalid_input", f"{where}: {first['msg']}" if where else first["msg"])


def _json_body(model: Any) -> dict[str, Any]:
    """OpenAPI for a body the route reads itself (to enforce the size limit while reading)."""
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": model.model_json_schema()}}}}


@api.post("/extract", response_model=ArticleExtraction, openapi_extra=_json_body(ArticleRecord))
async def extract(request: Request, grounding: Grounding = GroundingQuery) -> Response:
    """Extract one article now and answer with its ArticleExtraction."""
    body = await read_body(request, request.app.state.service.max_body_bytes)
    try:
        record = ArticleRecord.model_validate_json(body)
    except ValidationError as error:
        raise _invalid(error) from None
    engine = _manager(request).engine
    article = engine.article(record.as_record(), "body")
    result = await engine.extract(article, grounding)
    return Response(result.model_dump_json(), media_type="application/json")


@api.post("/jobs", status_code=202, response_model=JobAccepted, openapi_extra=_json_body(JobRequest))
async def create_job(request: Request, grounding: Grounding = GroundingQuery) -> Response:
    """Queue many articles (JSON `{"articles": [...]}` or NDJSON); answers once they are stored."""
    body = await read_body(request, request.app.state.service.max_body_bytes)
    if request.headers.get("content-type", "").split(";")[0].strip() == NDJSON:
        lines = records_from_ndjson(body)
    else:
        try:
            lines = records_from_json(body)
        except ValidationError as error:
            raise _invalid(error) from None
    manager = _manager(request)
    job = await manager.create(lines, grounding)
    request.state.job_id = job.id
    described = manager.describe(job)
    accepted = {key: described[key] for key in ("id", "status", "counts")}
    return JSONResponse(accepted, status_code=202, headers={"Location": f"/v1/jobs/{job.id}"})


@api.get("/jobs", response_model=JobList)
async def list_jobs(request: Request) -> dict[str, Any]:
    """Every job, newest first."""
    manager = _manager(request)
    jobs = sorted(manager.jobs.values(), key=lambda job: job.meta["created_at"], reverse=True)
    return {"jobs": [manager.describe(job) for job in jobs]}


@api.get("/jobs/{job_id}", response_model=JobStatus)
async def get_job(request: Request, job_id: str) -> dict[str, Any]:
    manager = _manager(request)
    return manager.describe(manager.get(job_id))


@api.delete("/jobs/{job_id}", response_model=JobStatus)
async def cancel_job(request: Request, job_id: str) -> dict[str, Any]:
    """Cancel: articles not yet finished are not sent (they stay pending)."""
    manager = _manager(request)
    job = manager.get(job_id)
    await manager.cancel(job)
    return manager.describe(job)


@api.get("/jobs/{job_id}/results", response_class=StreamingResponse)
async def job_results(
    request: Request, job_id: str, follow: bool = Query(False, description="keep streaming until the job ends")
) -> StreamingResponse:
    """NDJSON: one ArticleExtraction per finished article (so far, or as they finish with follow)."""
    manager = _manager(request)
    job = manager.get(job_id)
    return StreamingResponse(manager.results(job, follow=follow), media_type=NDJSON)


@api.get("/jobs/{job_id}/failures", response_class=StreamingResponse)
async def job_failures(request: Request, job_id: str) -> StreamingResponse:
    """NDJSON: `{"id", "reason", "message"}` per failed article."""
    manager = _manager(request)
    return StreamingResponse(manager.failures(manager.get(job_id)), media_type=NDJSON)


@api.get("/jobs/{job_id}/review", response_class=HTMLResponse)
async def job_review(request: Request, job_id: str) -> HTMLResponse:
    """The review page of the job's results, self-contained HTML."""
    manager = _manager(request)
    return HTMLResponse(manager.review(manager.get(job_id)))


@api.get("/schema")
async def schema() -> dict[str, Any]:
    """The JSON Schema of the ArticleExtraction contract."""
    return ArticleExtraction.model_json_schema()


@ops.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@ops.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """Ready: a provider is configured and the state folder can be written."""
    manager = _manager(request)
    problems = [problem for problem in (manager.engine.ready(), manager.writable()) if problem]
    if problems:
        return JSONResponse({"status": "unavailable", "problems": problems}, status_code=503)
    return JSONResponse({"status": "ready"})


@ops.get("/metrics", response_class=PlainTextResponse)
async def metrics(request: Request) -> Response:
    """Prometheus text format."""
    manager = _manager(request)
    registry = manager.engine.metrics
    registry.queue_depth.set(manager.pending() + manager.engine.gate.waiting_requests)
    registry.in_flight.set(manager.engine.gate.busy)
    for status, count in manager.by_status().items():
        registry.jobs.labels(status).set(count)
    return Response(registry.render(), media_type=registry.content_type)


@ops.get("/", response_class=HTMLResponse, include_in_schema=False)
async def index() -> HTMLResponse:
    """A page listing the jobs and their progress (it asks for the key and calls /v1)."""
    return HTMLResponse(INDEX_HTML)


__all__ = ["api", "ops"]
