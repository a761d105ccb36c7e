"""A small hierarchy of named errors; each knows the CLI exit code it maps to."""

from __future__ import annotations


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
