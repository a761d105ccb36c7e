"""Backpressure: the request body limit and the one gate every model extraction goes through."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

from fastapi import Request
from prometheus_client import Gauge

from ..model_call.gate import RequestGate
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


class ExtractionGate(RequestGate):
    """At most `slots` model requests in flight, shared by synchronous requests and job articles.

    The slot is taken in the transport, for the request only (each retry takes its own), as a
    batch job's `--concurrency` is: validation, grounding and storing happen outside it, so a
    slot is never held by work that is not the model's. Synchronous requests are admitted while
    fewer than `slots + max_waiting` are in process; past that the caller gets 429 at once
    instead of a request that hangs until its own timeout. Job articles are bounded by the
    runner, which takes only as many as the slots can serve.
    """

    def __init__(self, slots: int, max_waiting: int, retry_after: int, in_flight: Gauge | None = None) -> None:
        super().__init__(slots, close_on=frozenset())
        self.in_flight = in_flight
        self.slots = slots
        self.max_waiting = max_waiting
        self.retry_after = retry_after
        self.requests = 0  # synchronous requests in process (waiting or in flight)
        self.busy = 0  # model requests in flight

    @property
    def waiting_requests(self) -> int:
        return max(0, self.requests - self.busy)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one model request slot for the duration of the block."""
        async with super().slot():
            self.busy += 1
            if self.in_flight is not None:
                self.in_flight.inc()
            try:
                yield
            finally:
                self.busy -= 1
                if self.in_flight is not None:
                    self.in_flight.dec()

    @contextmanager
    def admit(self) -> Iterator[None]:
        """A synchronous request in process for the duration of the block; 429 when too many are."""
        if self.requests >= self.slots + self.max_waiting:
            raise Overloaded("too many extractions queued; retry later", self.retry_after)
        self.requests += 1
        try:
            yield
        finally:
            self.requests -= 1
