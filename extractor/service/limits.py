"""Backpressure: the request body limit and the one gate every model extraction goes through."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Request

from .problems import ApiError


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, or 413 as soon as it is known to exceed `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, "payload_too_large", f"request body over {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    # Counted while streaming: a chunked body has no Content-Length to check up front.
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, "payload_too_large", f"request body over {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


class Overloaded(ApiError):
    """429: no room in the queue now; `Retry-After` says when to try again."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(429, "overloaded", message, {"Retry-After": str(retry_after)})


class ExtractionGate:
    """At most `slots` extractions at once, shared by synchronous requests and job workers.

    Synchronous requests may wait for a slot, but only `max_waiting` of them: past that the
    caller gets 429 at once instead of a request that hangs until its own timeout. Job
    workers always wait: their articles are already safe in the store.
    """

    def __init__(self, slots: int, max_waiting: int, retry_after: int) -> None:
        self.slots = slots
        self.max_waiting = max_waiting
        self.retry_after = retry_after
        self._semaphore = asyncio.Semaphore(slots)
        self.waiting_requests = 0  # synchronous requests only: job workers are bounded by jobs
        self.busy = 0

    @asynccontextmanager
    async def slot(self, *, may_refuse: bool) -> AsyncIterator[None]:
        """Hold one extraction slot for the duration of the block."""
        if may_refuse and self._semaphore.locked() and self.waiting_requests >= self.max_waiting:
            raise Overloaded("too many extractions queued; retry later", self.retry_after)
        self.waiting_requests += may_refuse
        try:
            await self._semaphore.acquire()
        finally:
            self.waiting_requests -= may_refuse
        self.busy += 1
        try:
            yield
        finally:
            self.busy -= 1
            self._semaphore.release()
