"""A small hierarchy of named errors, and the stable causes an article's failure is grouped by."""

from __future__ import annotations

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
    EXPIRED = "expired"  # the job's deadline passed before the article could be done
    CANCELLED = "cancelled"  # the job was cancelled before the article was done
    INTERNAL_ERROR = "internal_error"  # a bug of ours: reported with its exception class
    # --via batch-api --no-live-fallback: what the batch did not answer well, not sent live.
    BATCH_INVALID_ANSWER = "batch_invalid_answer"  # the batch's answer did not validate
    BATCH_REQUEST_ERROR = "batch_request_error"  # the batch answered the request with an error
    BATCH_UNREADABLE_ANSWER = "batch_unreadable_answer"  # its line in the result file could not be read
    BATCH_LEFT_OVER = "batch_left_over"  # the batch ended (expired, failed, cancelled) without answering
    BATCH_NOT_SUBMITTED = "batch_not_submitted"  # the request was not in the batch


class ExtractorError(Exception):
    """Base of every error the extractor raises on purpose."""

    exit_code = 1


class InputError(ExtractorError):
    """The article could not be read: missing, empty, binary, not UTF-8, too large, malformed."""

    exit_code = 2


class ConfigError(ExtractorError):
    """Settings are wrong or no provider can be built."""

    exit_code = 3


class ProviderUnavailable(ConfigError):
    """The chosen provider cannot run here (no key, extra not installed, server refused auth)."""


class ReplayMiss(ConfigError):
    """Replay mode found no recorded response for a request."""

    def __init__(self, message: str, *, key: str, article_id: str | None = None) -> None:
        super().__init__(message)
        self.key = key
        self.article_id = article_id


class ExtractionFailed(ExtractorError):
    """The model call failed for good: retries ran out or the server refused the request."""

    exit_code = 4

    def __init__(
        self,
        message: str,
        *,
        cause: str,
        last_output: str | None = None,
        attempts: int = 0,
    ) -> None:
        super().__init__(message)
        self.cause = cause
        self.last_output = last_output
        self.attempts = attempts
