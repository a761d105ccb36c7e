"""Retry policies as data: tenacity objects for transport faults, for creates that must happen
once, and for validation re-asks."""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import json
import math
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx2
import openai
from instructor.core.exceptions import AsyncValidationError, ResponseParsingError
from instructor.core.exceptions import ValidationError as InstructorValidationError
from pydantic import ValidationError
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    Retrying,
    retry_if_exception,
    retry_if_exception_type,
    retry_if_result,
    stop_after_attempt,
    wait_exponential_jitter,
)
from tenacity.retry import retry_base
from tenacity.wait import wait_base

RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})
TRANSPORT_FAULTS = (httpx2.TimeoutException, httpx2.NetworkError, httpx2.RemoteProtocolError)
# Faults that leave no doubt the server never got the request: any request may be sent again.
NOT_SENT = (httpx2.ConnectError, httpx2.ConnectTimeout, httpx2.PoolTimeout)
# The server turned the request away without acting on it.
REFUSED_STATUS = frozenset({429})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# POSTs whose repeat makes nothing new: a chat completion is paid again but leaves nothing
# behind, and cancelling a batch twice cancels it once.
REPEATABLE_POSTS = ("/chat/completions", "/cancel")
MAX_RETRY_AFTER = 120.0


def retry_after_seconds(response: httpx2.Response) -> float | None:
    """Seconds the server asked us to wait (`retry-after-ms`, `Retry-After` seconds or HTTP date).

    A value we cannot read ("soon", "nan", a broken date) is no request at all: None.
    """
    headers = response.headers
    if "retry-after-ms" in headers:
        milliseconds = _seconds(headers["retry-after-ms"])
        if milliseconds is not None:
            return milliseconds / 1000
    value = headers.get("retry-after")
    if value is None:
        return None
    seconds = _seconds(value)
    if seconds is not None:
        return seconds
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return max(0.0, parsed.timestamp() - time.time())


def _seconds(value: str) -> float | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return max(0.0, number) if math.isfinite(number) else None


def is_retryable_response(response: Any) -> bool:
    return isinstance(response, httpx2.Response) and response.status_code in RETRYABLE_STATUS


def is_refused_response(response: Any) -> bool:
    return isinstance(response, httpx2.Response) and response.status_code in REFUSED_STATUS


def is_repeatable(request: httpx2.Request) -> bool:
    """Whether sending `request` again after a timeout or a 5xx can do no harm.

    Not so for a file upload or a batch create: the first may have been carried out even
    though no answer came back, and a repeat makes a second file or a second, billed batch.
    Those are looked up before they are sent again (see `engines/batch_api/remote.py`).
    """
    if request.method in IDEMPOTENT_METHODS:
        return True
    return request.method == "POST" and request.url.path.rstrip("/").endswith(REPEATABLE_POSTS)


class retry_if_request(retry_base):
    """Retry only calls whose request (the call's first argument) passes `predicate`."""

    def __init__(self, predicate: Callable[[httpx2.Request], bool]) -> None:
        self.predicate = predicate

    def __call__(self, retry_state: RetryCallState) -> bool:
        request = retry_state.args[0] if retry_state.args else None
        return isinstance(request, httpx2.Request) and self.predicate(request)


class wait_retry_after(wait_base):
    """Honour the server's Retry-After; otherwise fall back to exponential backoff with jitter."""

    def __init__(self, fallback: wait_base, cap: float = MAX_RETRY_AFTER) -> None:
        self.fallback = fallback
        self.cap = cap

    def __call__(self, retry_state: RetryCallState) -> float:
        outcome = retry_state.outcome
        if outcome is not None and not outcome.failed:
            asked = retry_after_seconds(outcome.result())
            if asked is not None:
                return min(asked, self.cap)
        return self.fallback(retry_state)


class Throttle:
    """Shared pause: one 429 with Retry-After slows every request that uses this throttle."""

    def __init__(self) -> None:
        self._until = 0.0
        self._lock = threading.Lock()

    def pause(self, seconds: float) -> None:
        with self._lock:
            self._until = max(self._until, time.monotonic() + seconds)

    def remaining(self) -> float:
        return max(0.0, self._until - time.monotonic())

    def paused_until(self) -> dt.datetime | None:
        """The local wall-clock time the pause ends, or None when not paused."""
        left = self.remaining()
        return dt.datetime.now() + dt.timedelta(seconds=left) if left > 0 else None

    def wait(self) -> None:
        while (left := self.remaining()) > 0:
            time.sleep(left)

    async def await_clear(self) -> None:
        while (left := self.remaining()) > 0:
            await asyncio.sleep(left)


def _return_last_response(retry_state: RetryCallState) -> Any:
    # Out of retries on a 429/5xx: hand the response to the SDK so it raises its own typed error.
    assert retry_state.outcome is not None  # tenacity calls retry_error_callback after an attempt
    return retry_state.outcome.result()


def transport_policy_kwargs(
    *, retries: int, initial: float = 0.5, maximum: float = 30.0, retry_after_max: float = MAX_RETRY_AFTER
) -> dict[str, Any]:
    return dict(
        stop=stop_after_attempt(retries + 1),
        wait=wait_retry_after(
            wait_exponential_jitter(multiplier=initial, max=maximum, jitter=initial), cap=retry_after_max
        ),
        retry=(
            retry_if_exception_type(NOT_SENT)
            | retry_if_result(is_refused_response)
            | (
                retry_if_request(is_repeatable)
                & (retry_if_exception_type(TRANSPORT_FAULTS) | retry_if_result(is_retryable_response))
            )
        ),
        retry_error_callback=_return_last_response,
        reraise=True,
    )


def transport_retrying(**kwargs: Any) -> Retrying:
    return Retrying(**transport_policy_kwargs(**kwargs))


def async_transport_retrying(**kwargs: Any) -> AsyncRetrying:
    return AsyncRetrying(**transport_policy_kwargs(**kwargs))


def left_in_doubt(exc: BaseException) -> bool:
    """Whether a request that failed so may still have been carried out by the server.

    No answer in time, a connection cut after sending, or a 5xx (408 too): the server may have
    made the file or batch before failing to say so. A connection never made, a 429 or another
    4xx leaves no doubt.
    """
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code >= 500 or exc.status_code == 408
    return isinstance(exc, openai.APIConnectionError) and not isinstance(exc.__cause__, NOT_SENT)


def once_retrying(*, retries: int, initial: float = 0.5, maximum: float = 30.0) -> Retrying:
    """Attempts at a create that must happen once: after a failure that leaves it in doubt,
    the next attempt looks before it creates (see `engines/batch_api/remote.made_once`)."""
    return Retrying(
        stop=stop_after_attempt(retries + 1),
        wait=wait_exponential_jitter(multiplier=initial, max=maximum, jitter=initial),
        retry=retry_if_exception(left_in_doubt),
        reraise=True,
    )


# Only an answer that failed to parse or validate is worth a paid re-ask. A bare ValueError
# is not one: it may come from our own code, and asking the model again cannot fix that.
REASK_ERRORS = (
    ValidationError,
    json.JSONDecodeError,
    InstructorValidationError,
    AsyncValidationError,
    ResponseParsingError,
)


def reask_policy_kwargs(max_reasks: int) -> dict[str, Any]:
    return dict(stop=stop_after_attempt(max_reasks + 1), retry=retry_if_exception_type(REASK_ERRORS))


def reask_retrying(max_reasks: int) -> Retrying:
    """Validation re-asks through instructor: bounded, and only for answers that failed to validate."""
    return Retrying(**reask_policy_kwargs(max_reasks))


def async_reask_retrying(max_reasks: int) -> AsyncRetrying:
    return AsyncRetrying(**reask_policy_kwargs(max_reasks))
