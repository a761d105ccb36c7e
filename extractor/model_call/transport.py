"""HTTP transports under the openai SDK: transport retries, per-call metering, a batch's gate.

Everything the SDK sends passes through here, whatever the provider (a real server, the
in-process local model, or recorded fixtures), so retries and accounting behave the same
for all of them.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx2

from ..schemas import Usage
from ..settings import Settings
from .gate import current_gate
from .retry import MAX_RETRY_AFTER, Throttle, async_transport_retrying, retry_after_seconds, transport_retrying

# A response answered by a layer under the transport rather than by a live call (the Batch API
# engine's answers) carries this extension with where it was answered: its tokens were paid
# there, at that price, and are not a live call's.
ANSWERED_BY = "extractor_answered_by"
BATCH_ANSWER = "batch"


@dataclass
class CallMeter:
    """Model calls made and tokens used for one extraction, re-asks and retries included.

    Meters nest: a call counts in the innermost meter and in every meter around it, so a
    batch still knows what an article spent when the extraction failed and took its own
    meter with it, and what a whole run spent. `on_call` (of the meter a call is made in)
    hears of each live call as it ends, to record it durably before the article is done.
    """

    attempts: int = 0
    usage: Usage = field(default_factory=Usage)
    # Of `attempts` and `usage`, the answers a Batch API batch gave (paid there, at the batch price).
    batch_answers: int = 0
    batch_usage: Usage = field(default_factory=Usage)
    # Seconds its requests waited for a slot of a batch's gate: queueing, not latency.
    waiting: float = 0.0
    parent: CallMeter | None = field(default=None, repr=False)
    on_call: Callable[[Usage], None] | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, response: httpx2.Response | None) -> None:
        """One request sent; `None` when it never got an answer (timeout, dropped connection)."""
        usage = usage_of(response) if response is not None and response.status_code == 200 else Usage()
        from_batch = response is not None and response.extensions.get(ANSWERED_BY) == BATCH_ANSWER
        for meter in self._chain():
            with meter._lock:
                meter.attempts += 1
                meter.usage = meter.usage + usage
                if from_batch:
                    meter.batch_answers += 1
                    meter.batch_usage = meter.batch_usage + usage
        if not from_batch:
            for meter in self._chain():
                if meter.on_call is not None:
                    meter.on_call(usage)

    @property
    def live_attempts(self) -> int:
        """Requests sent to the model server itself (not answered from a batch)."""
        return self.attempts - self.batch_answers

    @property
    def live_usage(self) -> Usage:
        """Tokens of the answers the model server itself gave."""
        return self.usage - self.batch_usage

    def waited(self, seconds: float) -> None:
        """A request waited `seconds` for a slot of its batch's gate."""
        for meter in self._chain():
            with meter._lock:
                meter.waiting += seconds

    def _chain(self) -> Iterator[CallMeter]:
        """This meter and every meter around it."""
        meter: CallMeter | None = self
        while meter is not None:
            yield meter
            meter = meter.parent


_current_meter: contextvars.ContextVar[CallMeter | None] = contextvars.ContextVar("extractor_meter", default=None)


def start_metering(
    parent: CallMeter | None = None, *, on_call: Callable[[Usage], None] | None = None
) -> tuple[CallMeter, contextvars.Token[CallMeter | None]]:
    """A meter for what follows in this context, inside `parent` or else the current meter."""
    meter = CallMeter(parent=parent if parent is not None else _current_meter.get(), on_call=on_call)
    return meter, _current_meter.set(meter)


def stop_metering(token: contextvars.Token[CallMeter | None]) -> None:
    _current_meter.reset(token)


def usage_of(response: httpx2.Response) -> Usage:
    try:
        usage = json.loads(response.content).get("usage") or {}
        return Usage(
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or 0),
            total_tokens=int(usage.get("total_tokens") or 0),
        )
    except (ValueError, AttributeError, TypeError):
        return Usage()


def _observe(response: httpx2.Response, throttle: Throttle | None, options: RetryOptions) -> httpx2.Response:
    meter = _current_meter.get()
    if meter is not None:
        meter.record(response)
    if throttle is not None and response.status_code == 429:
        asked = retry_after_seconds(response)
        if asked:
            # The same cap as the retry wait: a shared pause must not outlast what one call would wait.
            throttle.pause(min(asked, options.retry_after_max))
    return response


def _count_failed_send() -> None:
    meter = _current_meter.get()
    if meter is not None:
        meter.record(None)


@dataclass
class RetryOptions:
    retries: int = 4
    initial: float = 0.5
    maximum: float = 30.0
    retry_after_max: float = MAX_RETRY_AFTER  # the longest Retry-After honoured, shared pauses included

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryOptions:
        return cls(settings.transport_retries, settings.backoff_initial, settings.backoff_max, settings.retry_after_max)

    def as_kwargs(self) -> dict[str, float | int]:
        return {
            "retries": self.retries,
            "initial": self.initial,
            "maximum": self.maximum,
            "retry_after_max": self.retry_after_max,
        }


class RetryingTransport(httpx2.BaseTransport):
    def __init__(
        self, inner: httpx2.BaseTransport, options: RetryOptions | None = None, throttle: Throttle | None = None
    ) -> None:
        self.inner = inner
        self.options = options or RetryOptions()
        self.throttle = throttle

    def _send_once(self, request: httpx2.Request) -> httpx2.Response:
        if self.throttle is not None:
            self.throttle.wait()
        try:
            response = self.inner.handle_request(request)
            response.read()
        except Exception:
            _count_failed_send()
            raise
        return _observe(response, self.throttle, self.options)

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        return transport_retrying(**self.options.as_kwargs())(self._send_once, request)

    def close(self) -> None:
        self.inner.close()


class AsyncRetryingTransport(httpx2.AsyncBaseTransport):
    def __init__(
        self,
        inner: httpx2.AsyncBaseTransport,
        options: RetryOptions | None = None,
        throttle: Throttle | None = None,
    ) -> None:
        self.inner = inner
        self.options = options or RetryOptions()
        self.throttle = throttle

    async def _send_once(self, request: httpx2.Request) -> httpx2.Response:
        gate = current_gate()
        if gate is None:
            return await self._send_now(request)
        queued = time.perf_counter()
        async with gate.slot():
            if (meter := _current_meter.get()) is not None:
                meter.waited(time.perf_counter() - queued)
            response = await self._send_now(request)
            if response.status_code in gate.close_on:
                gate.close()  # before the slot is free: a waiting request must not follow it
        # The request that takes the freed slot was woken behind us: let it be sent before this
        # answer is validated, grounded and stored, so the slot is not idle meanwhile.
        await asyncio.sleep(0)
        return response

    async def _send_now(self, request: httpx2.Request) -> httpx2.Response:
        if self.throttle is not None:
            await self.throttle.await_clear()
        try:
            response = await self.inner.handle_async_request(request)
            await response.aread()
        except BaseException:
            # Cancelled included: a job stopping with this request in flight still sent it.
            _count_failed_send()
            raise
        return _observe(response, self.throttle, self.options)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        return await async_transport_retrying(**self.options.as_kwargs())(self._send_once, request)

    async def aclose(self) -> None:
        await self.inner.aclose()
