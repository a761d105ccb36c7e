"""Every error the extractor raises on purpose, and the stable causes an article's failure is grouped by.

One module for all of them: the library, the engines and the CLI raise these classes (and
`extractor` exports each). What a command exits with is the CLI's business
(`extractor.cli.exit_codes`), not an attribute of the error.
"""

from __future__ import annotations

import re
from enum import StrEnum


class Cause(StrEnum):
    """Why an article failed: a short, stable value to group and filter failures by.

    Stored in job stores and outputs as its string value; new members may be added, existing
    ones are never renamed.
    """

    INPUT = "input"  # the record could not be read: empty, binary, malformed, too large
    FETCH = "fetch"  # the article's URL could not be fetched
    RATE_LIMITED = "rate_limited"  # HTTP 429 after every retry
    TIMEOUT = "timeout"  # the model server did not answer in time, after every retry
    CONNECTION = "connection"  # the model server could not be reached, after every retry
    SERVER_ERROR = "server_error"  # HTTP 5xx after every retry
    HTTP_ERROR = "http_error"  # another HTTP status the server refused the request with (400, 413, ...)
    REFUSED = "refused"  # credentials refused or model unknown (401/403/404): the job stops
    INVALID_OUTPUT = "invalid_output"  # no answer validated within the re-ask budget
    OUTPUT_TRUNCATED = "output_truncated"  # the answer was cut off at max_tokens
    REPLAY_MISS = "replay_miss"  # replay mode had no recorded answer for the request
    CONFIG = "config"  # the settings or a stored fixture are wrong for this article
    EXPIRED = "expired"  # the job's deadline passed before the article could be done
    CANCELLED = "cancelled"  # the job was cancelled before the article was done
    INTERNAL_ERROR = "internal_error"  # a bug of ours: reported with its exception class
    # --via batch-api --no-live-fallback: what the batch did not answer well, not sent live.
    BATCH_INVALID_ANSWER = "batch_invalid_answer"  # the batch's answer did not validate
    BATCH_REQUEST_ERROR = "batch_request_error"  # the batch answered the request with an error
    BATCH_UNREADABLE_ANSWER = "batch_unreadable_answer"  # its line in the result file could not be read
    BATCH_LEFT_OVER = "batch_left_over"  # the batch ended (expired, failed, cancelled) without answering
    BATCH_NOT_SUBMITTED = "batch_not_submitted"  # the request was not in the batch

    @classmethod
    def for_status(cls, status: int) -> Cause:
        """The cause of a request the server refused with HTTP `status` (after every retry)."""
        if status == 429:
            return cls.RATE_LIMITED
        return cls.SERVER_ERROR if status >= 500 else cls.HTTP_ERROR


_OLD_HTTP_CAUSE = re.compile(r"^http_(\d{3})$")


def read_cause(stored: str | None) -> tuple[Cause | None, int | None]:
    """(cause, HTTP status) from a value a store or output file holds, older forms included.

    Stores written before causes were an enum hold `http_500`-style values (now
    `server_error`/`http_error` plus the status) and class-derived names; what is not a
    cause any more reads as `internal_error`.
    """
    if stored is None or stored == "":
        return None, None
    if stored in Cause._value2member_map_:
        return Cause(stored), None
    old = _OLD_HTTP_CAUSE.match(stored)
    if old is not None:
        status = int(old.group(1))
        return Cause.for_status(status), status
    return _OLD_NAMES.get(stored, Cause.INTERNAL_ERROR), None


# Causes the first stores derived from exception class names.
_OLD_NAMES = {"provider_unavailable": Cause.REFUSED, "config": Cause.CONFIG, "batch_api": Cause.INTERNAL_ERROR}


class ExtractorError(Exception):
    """Base of every error the extractor raises on purpose."""


class InputError(ExtractorError):
    """The article could not be read: missing, empty, binary, not UTF-8, too large, malformed."""


class ConfigError(ExtractorError):
    """Settings are wrong or no provider can be built."""


class ProviderUnavailable(ConfigError):
    """The chosen provider cannot run here (no key, extra not installed, server refused auth)."""


class ReplayMiss(ConfigError):
    """Replay mode found no recorded response for a request."""

    def __init__(self, message: str, *, key: str, article_id: str | None = None) -> None:
        super().__init__(message)
        self.key = key
        self.article_id = article_id


class StoreBusy(ConfigError):
    """Another live run holds the lease of the job store (or of the output) this run needs."""


class LeaseLost(ConfigError):
    """This run's lease was taken over: it must stop writing."""


class JobStopped(ConfigError):
    """The provider refused the job itself (credentials): no further request is sent."""


class ExtractionFailed(ExtractorError):
    """The model call failed for good: retries ran out or the server refused the request."""

    def __init__(
        self,
        message: str,
        *,
        cause: Cause,
        last_output: str | None = None,
        attempts: int = 0,
        http_status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.cause = Cause(cause)
        self.last_output = last_output
        self.attempts = attempts
        self.http_status = http_status


class BatchAborted(ExtractorError):
    """--fail-fast: the job stopped at its first failed article."""


class BatchHadFailures(ExtractorError):
    """The job finished, but some articles failed (their reasons are in the summary and the store)."""


# The most specific class first: a ReplayMiss is a ConfigError too.
_CAUSES: tuple[tuple[type[ExtractorError], Cause], ...] = (
    (InputError, Cause.INPUT),
    (ReplayMiss, Cause.REPLAY_MISS),
    (ProviderUnavailable, Cause.REFUSED),
    (JobStopped, Cause.REFUSED),
    (ConfigError, Cause.CONFIG),
)


def cause_of(error: BaseException) -> Cause:
    """The cause an article's failure is recorded with; anything not raised on purpose is a bug."""
    if isinstance(error, ExtractionFailed):
        return error.cause
    for kind, cause in _CAUSES:
        if isinstance(error, kind):
            return cause
    return Cause.INTERNAL_ERROR


def describe_failure(error: BaseException) -> tuple[Cause, str]:
    """(cause, one-line message) of an article's failure; unexpected errors name their class."""
    first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
    if not isinstance(error, ExtractorError):
        return Cause.INTERNAL_ERROR, f"{type(error).__name__}: {first_line}"
    return cause_of(error), first_line


__all__ = [
    "BatchAborted",
    "BatchHadFailures",
    "Cause",
    "ConfigError",
    "ExtractionFailed",
    "ExtractorError",
    "InputError",
    "JobStopped",
    "LeaseLost",
    "ProviderUnavailable",
    "ReplayMiss",
    "StoreBusy",
    "cause_of",
    "describe_failure",
    "read_cause",
]
