"""`Idempotency-Key` on every POST, scoped to the caller's key (the IETF Idempotency-Key draft).

The first request with a key is carried out and its answer stored (for a job, in the same
transaction as the job); a request with the same key and the same method, path, query and
body gets that answer again (`Idempotent-Replayed: true`), even after a restart. The same key
with another request is 422; while the first is still being carried out, 409. Answers that
say "try again" (429, 5xx) are not stored: the retry is carried out. Answers are kept for
`ANSWER_SECONDS` (24 h).
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from collections.abc import Awaitable, Callable

from fastapi import Request, Response

from .auth import Caller
from .db import Database, IdempotencyRow
from .problems import ApiError

HEADER = "idempotency-key"
KEY = re.compile(r"[\x21-\x7e]{1,255}")
ANSWER_SECONDS = 86400.0
STALE_SECONDS = 600.0  # a key in progress this long belonged to a process that died
REPLAYED = {"content-type", "location"}


def idempotency_key(request: Request) -> str | None:
    value = request.headers.get(HEADER)
    if value is None:
        return None
    if not KEY.fullmatch(value):
        raise ApiError(422, "invalid_idempotency_key", "Idempotency-Key: 1 to 255 printable ASCII characters")
    return value


def fingerprint(request: Request, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (request.method, request.url.path, str(sorted(request.query_params.multi_items()))):
        digest.update(part.encode("utf-8", "surrogatepass") + b"\0")
    digest.update(body)
    return digest.hexdigest()


def replay(found: IdempotencyRow, fingerprint_: str) -> Response:
    """The stored answer to this key, or why there is none to give."""
    if found.fingerprint != fingerprint_:
        raise ApiError(422, "idempotency_key_reused", "this Idempotency-Key was already used with another request")
    if found.state != "done" or found.status_code is None:
        raise ApiError(409, "idempotency_key_in_use", "a request with this Idempotency-Key is still being carried out")
    headers = {**found.headers, "Idempotent-Replayed": "true"}
    return Response(found.body or "", status_code=found.status_code, headers=headers)


def pending_answer(caller: Caller, key: str, fingerprint_: str) -> IdempotencyRow:
    return IdempotencyRow(caller.key_id, key, fingerprint_, "in_progress", None, {}, None, None)


async def idempotent(
    request: Request, caller: Caller, db: Database, body: bytes, handler: Callable[[], Awaitable[Response]]
) -> Response:
    """Carry out `handler` once per idempotency key (when the request has one)."""
    key = idempotency_key(request)
    if key is None:
        return await handler()
    print_ = fingerprint(request, body)
    now = time.time()
    found = await asyncio.to_thread(
        db.begin_answer, pending_answer(caller, key, print_), now, stale_before=now - STALE_SECONDS
    )
    if found is not None:
        return replay(found, print_)
    try:
        response = await handler()
    except BaseException:
        await asyncio.shield(asyncio.to_thread(db.forget_answer, caller.key_id, key))
        raise
    if response.status_code == 429 or response.status_code >= 500 or not hasattr(response, "body"):
        await asyncio.to_thread(db.forget_answer, caller.key_id, key)
        return response
    headers = {name: value for name, value in response.headers.items() if name in REPLAYED}
    body_text = bytes(response.body).decode("utf-8")
    stored = IdempotencyRow(caller.key_id, key, print_, "done", response.status_code, headers, body_text, None)
    await asyncio.to_thread(db.finish_answer, stored)
    return response
