"""Turning what the SDK, instructor and the transports raise into the extractor's named errors.

Only failures of the model call become `ExtractionFailed`: SDK (openai) errors, instructor's
errors and HTTP errors, with the answer validation errors they carry. Anything else raised
in our own code (a `TypeError`, say) is a bug and surfaces as itself, not as a model failure.
"""

from __future__ import annotations

import json
from typing import Any

import httpx2
import openai
from instructor.core.exceptions import IncompleteOutputException, InstructorError, InstructorRetryException
from pydantic import ValidationError
from tenacity import RetryError

from ..errors import Cause, ExtractionFailed, ExtractorError, ProviderUnavailable
from ..replay.context import last_replayed
from ..replay.redact import redact_secrets

MAX_LAST_OUTPUT = 4000
# What a failed model call is made of. The SDK and HTTP errors end the walk down the chain:
# what lies under them (socket errors, ssl) is the transport's business, not a bug of ours.
CALL_FAILURES = (openai.OpenAIError, httpx2.HTTPError)
WRAPPERS = (InstructorError, RetryError, ValidationError, json.JSONDecodeError)


def _causes(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        chain.append(current)
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return chain


def _bug(chain: list[BaseException]) -> BaseException | None:
    """The first exception in the chain that no model call would raise, or None."""
    for link in chain:
        if isinstance(link, (ExtractorError, *CALL_FAILURES)):
            return None
        if not isinstance(link, WRAPPERS):
            return link
    return None


def completion_text(completion: Any) -> str | None:
    """The raw answer of a chat completion: tool-call arguments or message content."""
    try:
        message = completion.choices[0].message
    except (AttributeError, IndexError, TypeError):
        return None
    answer = message.tool_calls[0].function.arguments if getattr(message, "tool_calls", None) else message.content
    return answer if isinstance(answer, str) else None


def _status_error(error: openai.APIStatusError, attempts: int) -> ExtractorError:
    status = error.status_code
    if status in (401, 403):
        return ProviderUnavailable(f"the model server refused the credentials (HTTP {status}); check OPENAI_API_KEY")
    if status == 404:
        return ProviderUnavailable("the model server answered 404: check --model and --base-url")
    detail = "rate limited (429) after every retry" if status == 429 else f"the model server answered HTTP {status}"
    return ExtractionFailed(detail, cause=Cause.for_status(status), attempts=attempts, http_status=status)


def to_extractor_error(exc: BaseException, *, attempts: int = 0) -> ExtractorError:
    """The most specific named error for a failed model call, with any known key redacted.

    Raises the underlying exception instead when it is not a model-call failure (a bug).
    """
    chain = _causes(exc)
    bug = _bug(chain)
    if bug is not None:
        raise bug from None
    return _redacted(_named(exc, chain, attempts))


def _named(exc: BaseException, chain: list[BaseException], attempts: int) -> ExtractorError:
    for link in chain:
        if isinstance(link, ExtractorError):
            return link
    for link in chain:
        if isinstance(link, openai.APIStatusError):
            return _status_error(link, attempts)
        if isinstance(link, openai.APITimeoutError):
            return ExtractionFailed(
                "the model server timed out after every retry", cause=Cause.TIMEOUT, attempts=attempts
            )
        if isinstance(link, openai.APIConnectionError):
            # What went wrong underneath (refused, reset, an untrusted certificate), if said.
            detail = _first_line(link.__cause__)
            return ExtractionFailed(
                "could not reach the model server after every retry" + (f" ({detail})" if detail else ""),
                cause=Cause.CONNECTION,
                attempts=attempts,
            )
        if isinstance(link, IncompleteOutputException):
            last = completion_text(getattr(link, "last_completion", None))
            return ExtractionFailed(
                f"the model's answer was cut off at max_tokens{_replayed_from()}",
                cause=Cause.OUTPUT_TRUNCATED,
                last_output=_clip(last),
            )
    if isinstance(exc, InstructorRetryException):
        last = completion_text(exc.last_completion)
        failed = getattr(exc, "failed_attempts", None) or []
        last_error = failed[-1].exception if failed else exc.__cause__
        reason = _first_line(last_error) or "invalid answer"
        return ExtractionFailed(
            f"no valid answer after {exc.n_attempts} attempts: {reason}{_replayed_from()}",
            cause=Cause.INVALID_OUTPUT,
            last_output=_clip(last),
            attempts=exc.n_attempts,
        )
    # A model-call failure of a kind not mapped above (an SDK or HTTP error class of its own).
    return ExtractionFailed(
        f"model call failed: {type(exc).__name__}: {exc}", cause=Cause.INTERNAL_ERROR, attempts=attempts
    )


def _replayed_from() -> str:
    # A replayed answer that fails is fixed in its fixture file: name it.
    path = last_replayed()
    return f" (stored answer: {path})" if path is not None else ""


def _redacted(error: ExtractorError) -> ExtractorError:
    """A server may echo the key back (in an error body or an answer): never pass it on."""
    message = str(error)
    clean = redact_secrets(message)
    last_output = getattr(error, "last_output", None)
    clean_output = redact_secrets(last_output)
    if clean == message and clean_output == last_output:
        return error
    error.args = (clean, *error.args[1:])
    if isinstance(error, ExtractionFailed):
        error.last_output = clean_output
    return error


def _first_line(error: BaseException | None) -> str:
    if error is None:
        return ""
    if hasattr(error, "errors") and callable(error.errors):  # pydantic: name the first failing field
        try:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first.get("loc", ()))
            return f"{where}: {first.get('msg', '')}" if where else first.get("msg", "")
        except (IndexError, TypeError, AttributeError):
            pass
    lines = [line for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


def _clip(text: str | None) -> str | None:
    if text is None:
        return None
    try:
        text = json.dumps(json.loads(text), ensure_ascii=False)
    except ValueError:
        pass
    return text if len(text) <= MAX_LAST_OUTPUT else text[:MAX_LAST_OUTPUT] + "…"
