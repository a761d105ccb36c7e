"""Writing the request files: the live path's own requests, split at the Batch API's limits.

The bodies are captured from the real Extractor (see `intercept.capturing`), so the prompt,
schema, model and decoding are exactly what a live call would send, and the batch answer
to a body can later be matched to the live path's request by the body's hash.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from ...input.sources import SourcedArticle
from .intercept import body_sha256, capturing
from .remote import ENDPOINT
from .state import PlannedRequest

# OpenAI's limits for one batch input file.
MAX_REQUESTS = 50_000
MAX_BYTES = 200 * 1024 * 1024


@dataclass(frozen=True)
class RequestLine:
    request: PlannedRequest
    line: bytes  # one JSONL line, newline included


async def render_requests(extractor: Any, article: SourcedArticle) -> list[dict[str, Any]]:
    """The chat bodies the live path sends for `article`: one per part of a split article."""
    with capturing() as capture:
        await extractor.aextract_article(article.article)
    return capture.bodies


def custom_id(article_key: str, part: int) -> str:
    """The article's store key; the parts after the first of a split article get `#part`."""
    return article_key if part == 1 else f"{article_key}#{part}"


def request_lines(article: SourcedArticle, bodies: list[dict[str, Any]]) -> list[RequestLine]:
    lines = []
    for part, body in enumerate(bodies, start=1):
        cid = custom_id(article.key, part)
        record = {"custom_id": cid, "method": "POST", "url": ENDPOINT, "body": body}
        planned = PlannedRequest(cid, article.key, article.article.sha256, body_sha256(body))
        lines.append(RequestLine(planned, (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")))
    return lines


@dataclass(frozen=True)
class RequestFile:
    name: str
    content: bytes
    requests: list[PlannedRequest]


def split_files(
    lines: Iterable[RequestLine],
    *,
    fingerprint: str = "",
    max_requests: int = MAX_REQUESTS,
    max_bytes: int = MAX_BYTES,
) -> Iterator[RequestFile]:
    """Request files of at most `max_requests` lines and `max_bytes` bytes.

    A file is named by the hash of the job's fingerprint and its content: the same requests
    for the same settings make the same name, which is how an interrupted upload or create is
    found again at the server. (Settings that change only what happens after the answer
    leave the bodies alone but not the fingerprint: their file is another one.)
    """
    batch: list[RequestLine] = []
    size = 0
    for line in lines:
        if batch and (len(batch) >= max_requests or size + len(line.line) > max_bytes):
            yield _file(batch, fingerprint)
            batch, size = [], 0
        batch.append(line)
        size += len(line.line)
    if batch:
        yield _file(batch, fingerprint)


def _file(lines: list[RequestLine], fingerprint: str) -> RequestFile:
    content = b"".join(line.line for line in lines)
    digest = hashlib.sha256(fingerprint.encode() + b"\n" + content).hexdigest()
    name = f"extractor-batch-{digest[:24]}.jsonl"
    return RequestFile(name, content, [line.request for line in lines])
