"""The Files and Batches endpoints, through the openai SDK and the extractor's own transport.

The client is the live path's (same credentials, base URL, transport retries and fixtures
mode), so uploads, creates, polls and downloads are recorded and replayed like chat calls.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import openai

from ...errors import Cause, ExtractionFailed, ExtractorError, cause_of
from ...model_call.client import open_openai
from ...model_call.failures import to_extractor_error
from ...replay import article_scope
from ...schemas import Usage
from .state import Answer

ENDPOINT = "/v1/chat/completions"
WINDOW = "24h"
# Names the request file in the batch's metadata, to find a batch whose creation a kill interrupted.
METADATA_KEY = "extractor_request_file"
FIXTURE_LABEL = "batch-api"


@dataclass(frozen=True)
class BatchView:
    """What a poll tells: status, request counts, and the result files once there are any."""

    id: str
    status: str
    total: int
    completed: int
    failed: int
    output_file_id: str | None
    error_file_id: str | None

    @classmethod
    def of(cls, batch: Any) -> BatchView:
        counts = batch.request_counts
        return cls(
            id=batch.id,
            status=batch.status,
            total=counts.total if counts else 0,
            completed=counts.completed if counts else 0,
            failed=counts.failed if counts else 0,
            output_file_id=batch.output_file_id,
            error_file_id=batch.error_file_id,
        )


@contextmanager
def calling(step: str) -> Iterator[None]:
    """Name the step's fixtures, and turn what the SDK raises into one named, one-line error."""
    try:
        with article_scope(FIXTURE_LABEL):
            yield
    except ExtractorError:
        raise
    except openai.APIStatusError as exc:
        if exc.status_code in (401, 403):
            raise to_extractor_error(exc) from exc
        detail = str(exc.message).splitlines()[0] if exc.message else ""
        raise ExtractionFailed(
            f"batch-api {step}: the server answered HTTP {exc.status_code}: {detail}",
            cause=Cause.for_status(exc.status_code),
            http_status=exc.status_code,
        ) from exc
    except Exception as exc:
        error = to_extractor_error(exc)
        raise ExtractionFailed(f"batch-api {step}: {error}", cause=cause_of(error)) from exc


class RemoteBatches:
    """Upload, create, poll, download and cancel, one SDK call each."""

    def __init__(self, extractor: Any) -> None:
        self._client = open_openai(extractor.settings, extractor.provider, is_async=False)

    def upload(self, name: str, content: bytes) -> str:
        with calling("upload"):
            return self._client.files.create(file=(name, content, "application/jsonl"), purpose="batch").id

    def find_file(self, name: str) -> str | None:
        """The id of an uploaded batch file called `name` (an upload a kill interrupted)."""
        with calling("upload lookup"):
            for file in self._client.files.list(purpose="batch"):
                if file.filename == name:
                    return file.id
        return None

    def create(self, file_id: str, name: str) -> BatchView:
        with calling("create"):
            batch = self._client.batches.create(
                input_file_id=file_id, endpoint=ENDPOINT, completion_window=WINDOW, metadata={METADATA_KEY: name}
            )
        return BatchView.of(batch)

    def find_batch(self, name: str) -> BatchView | None:
        """A batch created for the request file `name` (a create a kill interrupted)."""
        with calling("create lookup"):
            for batch in self._client.batches.list(limit=100):
                if (batch.metadata or {}).get(METADATA_KEY) == name:
                    return BatchView.of(batch)
        return None

    def poll(self, batch_id: str) -> BatchView:
        with calling("poll"):
            return BatchView.of(self._client.batches.retrieve(batch_id))

    def cancel(self, batch_id: str) -> BatchView:
        with calling("cancel"):
            return BatchView.of(self._client.batches.cancel(batch_id))

    def download(self, file_id: str | None) -> list[tuple[str, Answer, Usage]]:
        """The lines of an output or error file: (custom_id, answer, usage)."""
        if not file_id:
            return []
        with calling("download"):
            text = self._client.files.content(file_id).text
        return [parse_line(json.loads(line)) for line in text.splitlines() if line.strip()]

    def close(self) -> None:
        self._client.close()


def parse_line(line: dict[str, Any]) -> tuple[str, Answer, Usage]:
    """One output/error file line: `custom_id`, `response` {status_code, body}, `error`."""
    response = line.get("response") or {}
    body = response.get("body")
    error = line.get("error")
    usage = (body or {}).get("usage") or {} if isinstance(body, dict) else {}
    prompt, completion = int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)
    answer = Answer(
        status_code=response.get("status_code"),
        body=json.dumps(body) if body is not None else None,
        error=json.dumps(error) if error is not None else None,
    )
    return (
        str(line.get("custom_id")),
        answer,
        Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion),
    )
