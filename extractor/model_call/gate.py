"""A cap on requests in flight, shared by every task of one batch job.

`--concurrency` counts what the model server sees: requests in flight. The batch keeps a few
more articles in process than that, so that while requests wait on the model the next
article's prompt is already rendered and its request built, and the last answer is being
validated, grounded and stored: a slot freed by an answer is taken at once by a request that
is ready, instead of waiting behind that answer's processing on the one event loop.

The gate sits in the transport (`AsyncRetryingTransport`), so each attempt of a retry takes a
slot of its own and a backoff sleep holds none. Tasks find their job's gate in a context
variable, as they find their meter.

One event loop serves every article, first come first served: a stretch of CPU delays every
wake-up queued behind it. Two yields put ready requests first: after an answer frees its
slot (the transport) and before an answer is grounded and normalized (the pipeline); what
they gained is measured in bench/README.md.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

# A refusal that stops the whole job (see failures.py): nothing waiting for a slot is sent after it.
STOPPING_STATUS = frozenset({401, 403, 404})


def prepared_ahead(concurrency: int) -> int:
    """Articles a job keeps in process beyond its requests in flight."""
    return max(2, concurrency // 4)


class RequestGate:
    """At most `limit` requests in flight; closed, it sends nothing more.

    An answer with a status in `close_on` closes it before its slot is freed (the local
    engine stops its job on a refusal; a Ray actor records each article's failure instead).
    """

    def __init__(self, limit: int, *, close_on: frozenset[int] = STOPPING_STATUS) -> None:
        if limit < 1:
            raise ValueError("a request gate needs at least one slot")
        self.limit = limit
        self.close_on = close_on
        self.closed = False
        self._slots = asyncio.Semaphore(limit)  # made inside the job's running loop

    def close(self) -> None:
        self.closed = True

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        async with self._slots:
            if self.closed:
                # The job stopped while this request waited: it is never sent. The task ends as
                # a cancelled one does, and its article stays pending in the store.
                raise asyncio.CancelledError
            yield


_current_gate: contextvars.ContextVar[RequestGate | None] = contextvars.ContextVar("extractor_gate", default=None)


def use_gate(gate: RequestGate) -> contextvars.Token[RequestGate | None]:
    """Requests sent from this context (and the tasks it starts) go through `gate`."""
    return _current_gate.set(gate)


def reset_gate(token: contextvars.Token[RequestGate | None]) -> None:
    """Back to the gate this context had before `use_gate`."""
    _current_gate.reset(token)


def current_gate() -> RequestGate | None:
    return _current_gate.get()
