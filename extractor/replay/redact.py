"""What never reaches a fixture: credentials, cookies, and any header not on the allowlist."""

from __future__ import annotations

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
