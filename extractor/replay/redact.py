"""What never reaches a fixture: credentials, cookies, and any header not on the allowlist."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable, Mapping

SECRET_HEADERS = frozenset(
    {"authorization", "api-key", "x-api-key", "openai-organization", "openai-project", "cookie", "set-cookie"}
)
# Response headers worth keeping: replayed retries honour retry-after; the rest is noise or identity.
KEPT_RESPONSE_HEADERS = ("content-type", "retry-after", "x-request-id")
REDACTED = "[REDACTED]"
# Short values ("Bearer", "1") would blank out innocent text; real secrets are long.
MIN_SECRET_CHARS = 8


def secret_values(headers: Iterable[tuple[str, str]]) -> list[str]:
    """Values of credential headers, with and without an auth scheme such as `Bearer `."""
    found: set[str] = set()
    for name, value in headers:
        if name.lower() not in SECRET_HEADERS:
            continue
        found.add(value)
        _, _, token = value.partition(" ")
        found.add(token)
    return sorted((v for v in found if len(v) >= MIN_SECRET_CHARS), key=len, reverse=True)


def kept_response_headers(headers: Mapping[str, str]) -> dict[str, str]:
    lowered = {name.lower(): value for name, value in headers.items()}
    return {name: lowered[name] for name in KEPT_RESPONSE_HEADERS if name in lowered}


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Belt and braces: a credential echoed in a body (an error message, say) is blanked too."""
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return text


# Keys the process has handed to a client: a server may echo one back in an error body or an
# answer, and from there it would reach error lines, the batch store and logs.
_known: set[str] = set()
_known_lock = threading.Lock()
KEY_VARIABLES = ("OPENAI_API_KEY", "EXTRACTOR_API_KEY")


# Libraries under us that log exception texts (instructor logs every failed attempt with the
# server's error body). A logger's filters only see that logger's own records: list each one.
REDACTED_LOGGERS = ("instructor", "instructor.v2", "instructor.v2.retry", "openai", "openai._base_client")


class RedactingFilter(logging.Filter):
    """Rewrites a log record whose message carries a known key."""

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = known_secrets()
        if secrets:
            message = record.getMessage()
            clean = scrub(message, secrets)
            if clean != message:
                record.msg, record.args = clean, None
        return True


_filter = RedactingFilter()


def remember_secret(value: str | None) -> None:
    """Have `redact_secrets` and the library logs blank out `value` from now on (short values are ignored)."""
    if value and len(value) >= MIN_SECRET_CHARS:
        with _known_lock:
            _known.add(value)
        for name in REDACTED_LOGGERS:
            logger = logging.getLogger(name)
            if _filter not in logger.filters:
                logger.addFilter(_filter)


def known_secrets() -> list[str]:
    """Every key given to a client so far, and those in the environment; longest first."""
    with _known_lock:
        found = set(_known)
    found.update(v for name in KEY_VARIABLES if len(v := os.environ.get(name, "")) >= MIN_SECRET_CHARS)
    return sorted(found, key=len, reverse=True)


def redact_secrets(text: str | None) -> str | None:
    """`text` with every known key replaced by [REDACTED]."""
    return scrub(text, known_secrets()) if text else text
