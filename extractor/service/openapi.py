"""The OpenAPI document says what the service does: security, bodies, every error's problem schema.

`problems(...)` documents each status a route can answer with the one problem schema;
`body_of` documents a body the route reads itself (to enforce the size limit while reading).
`finish` adds, once per app, the bearer security scheme, the responses every authenticated
route can give, and the limits the settings put on bodies.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from .models import Problem

NDJSON = "application/x-ndjson"
PROBLEM_JSON = "application/problem+json"
DESCRIPTIONS = {
    401: "no or unknown API key",
    403: "a request from another site (a server without keys)",
    404: "no such job (or not the caller's)",
    409: "the job is not in a state for this, or the Idempotency-Key is in use",
    413: "the body is too large",
    415: "a body of another media type",
    421: "a host name this server does not serve",
    422: "the request is invalid (every problem listed; a job of too many articles too), or the Idempotency-Key was used for another request",
    429: "too many requests queued: retry after Retry-After seconds",
    502: "the model server failed this extraction after its retries",
    503: "no provider can run",
}
RETRY_AFTER = {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}}
AUTHENTICATE = {"WWW-Authenticate": {"description": "Bearer", "schema": {"type": "string"}}}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    answers: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        answer: dict[str, Any] = {
            "description": DESCRIPTIONS[status],
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        if status == 429:
            answer["headers"] = RETRY_AFTER
        if status == 401:
            answer["headers"] = AUTHENTICATE
        answers[status] = answer
    return answers


def body_of(model: type[BaseModel], *, ndjson: bool = False) -> dict[str, Any]:
    content: dict[str, Any] = {"application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}}
    if ndjson:
        content[NDJSON] = {"schema": {"type": "string", "description": "one article (a JSON object) a line"}}
    return {"requestBody": {"required": True, "content": content}}


def finish(
    document: dict[str, Any], *, max_text: int, max_articles: int, keyed: bool, public_metrics: bool
) -> dict[str, Any]:
    """The generated document completed with what FastAPI cannot know."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    from .models import ArticleRecord, JobRequest, ReviewPage

    for model in (Problem, ArticleRecord, JobRequest, ReviewPage):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, definition in schema.pop("$defs", {}).items():
            schemas[name] = definition
        schemas[model.__name__] = schema
    schemas["ArticleRecord"]["properties"]["text"]["maxLength"] = max_text
    schemas["JobRequest"]["properties"]["articles"]["maxItems"] = max_articles
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    if keyed:
        document["components"]["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
    for path, operations in document["paths"].items():
        for operation in operations.values():
            for parameter in operation.get("parameters", ()):
                # An absent parameter takes its default; a query string cannot say null.
                schema = parameter.get("schema", {})
                variants = [variant for variant in schema.pop("anyOf", ()) if variant.get("type") != "null"]
                if len(variants) == 1:
                    schema.update(variants[0])
            responses = operation["responses"]
            guarded = keyed and (path.startswith("/v1") or (path == "/metrics" and not public_metrics))
            if guarded:
                operation["security"] = [{"bearer": []}]
                responses.update({str(k): v for k, v in problems(401).items()})
            else:
                operation.pop("security", None)
                responses.pop("401", None)
            if "422" in responses:
                if _has_parameters(operation):
                    responses["422"] = problems(422)[422]
                else:
                    del responses["422"]
            responses.setdefault("421", problems(421)[421])
            if not keyed:
                responses.setdefault("403", problems(403)[403])
    return document


def _has_parameters(operation: dict[str, Any]) -> bool:
    return bool(operation.get("parameters") or operation.get("requestBody"))
