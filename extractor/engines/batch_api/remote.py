"""The Files and Batches endpoints, through the openai SDK and the extractor's own transport.

The client is the live path's (same credentials, base URL, transport retries and fixtures
mode), so uploads, creates, polls and downloads are recorded and replayed like chat calls.

An upload or a create is never sent again blindly: the transport does not retry them (see
`model_call.retry.is_repeatable`), and after one that failed in a way that leaves it in doubt
(no answer in time, a cut connection, a 5xx) the file is looked up by its name and purpose,
the batch by its job-part tag, and made again only if it is not there (`made_once`).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import openai
from tenacity import Retrying

from ...errors import Cause, ExtractionFailed, ExtractorError, cause_of
from ...model_call.client import open_openai
from ...model_call.failures import to_extractor_error
from ...model_call.retry import once_retrying
from ...replay import article_scope
from ...schemas import Usage
from .state import FINAL_BATCH_STATUSES, Answer

ENDPOINT: Literal["/v1/chat/completions"] = "/v1/chat/completions"
WINDOW: Literal["24h"] = "24h"
# Metadata of a batch: the request file it runs (for people), and the job part it was made
# for (to find it again after a create that left in doubt whether it was made).
METADATA_KEY = "extractor_request_file"
TAG_KEY = "extractor_job_part"
FIXTURE_LABEL = "batch-api"

logger = logging.getLogger("extractor.batch_api")
T = TypeVar("T")


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


def made_once(make: Callable[[], T], find: Callable[[], T | None], *, retrying: Retrying, look_first: bool) -> T:
    """What `make()` makes, made once whatever the network does.

    `retrying` decides which failures are worth another attempt (those that leave in doubt
    whether it was made); every attempt after such a failure, and the first one when
    `look_first` (an earlier process died during the call), looks with `find()` before it
    makes. One made again after a doubt is followed by one more look, so that an earlier
    attempt that landed late is found (`find` keeps one and cancels the others).
    """
    doubt = look_first

    def attempt() -> T:
        nonlocal doubt
        if doubt:
            found = find()
            if found is not None:
                return found
        again, doubt = doubt, True  # from here on a failure may leave it made
        made = make()
        return (find() or made) if again else made

    return retrying(attempt)


class RemoteBatches:
    """Upload, create, poll, download and cancel; uploads and creates happen once each."""

    def __init__(self, extractor: Any) -> None:
        self._settings = extractor.settings
        self._client = open_openai(self._settings, extractor.provider, is_async=False)

    def _retrying(self) -> Retrying:
        settings = self._settings
        return once_retrying(
            retries=settings.transport_retries, initial=settings.backoff_initial, maximum=settings.backoff_max
        )

    def upload(self, name: str, content: bytes, *, look_first: bool = False) -> str:
        """The id of the batch file `name`: uploaded, or found at the server if an upload left it there."""

        def make() -> str:
            return self._client.files.create(file=(name, content, "application/jsonl"), purpose="batch").id

        with calling("upload"):
            return made_once(
                make, lambda: self._find_file(name, len(content)), retrying=self._retrying(), look_first=look_first
            )

    def _find_file(self, name: str, size: int) -> str | None:
        for file in self._client.files.list(purpose="batch"):
            if file.filename == name and file.purpose == "batch" and file.bytes == size:
                return file.id
        return None

    def create(self, file_id: str, name: str, tag: str, *, look_first: bool = False) -> BatchView:
        """The batch of job part `tag`: created, or found at the server if a create left it there."""

        def make() -> BatchView:
            metadata = {METADATA_KEY: name, TAG_KEY: tag}
            batch = self._client.batches.create(
                input_file_id=file_id, endpoint=ENDPOINT, completion_window=WINDOW, metadata=metadata
            )
            return BatchView.of(batch)

        with calling("create"):
            return made_once(make, lambda: self._find_batch(tag), retrying=self._retrying(), look_first=look_first)

    def find_batch(self, tag: str) -> BatchView | None:
        """The batch made for job part `tag`, if there is one."""
        with calling("create lookup"):
            return self._find_batch(tag)

    def _find_batch(self, tag: str) -> BatchView | None:
        """The first batch made for `tag`; any later one (a create that landed twice) is cancelled."""
        made = [batch for batch in self._client.batches.list(limit=100) if (batch.metadata or {}).get(TAG_KEY) == tag]
        if not made:
            return None
        kept, *extra = sorted(made, key=lambda batch: (batch.created_at, batch.id))
        for batch in extra:
            if batch.status not in (*FINAL_BATCH_STATUSES, "cancelling"):
                logger.warning("batch-api: %s duplicates %s for the same requests: cancelled", batch.id, kept.id)
                self._client.batches.cancel(batch.id)
        return BatchView.of(kept)

    def poll(self, batch_id: str) -> BatchView:
        with calling("poll"):
            return BatchView.of(self._client.batches.retrieve(batch_id))

    def cancel(self, batch_id: str) -> BatchView:
        with calling("cancel"):
            return BatchView.of(self._client.batches.cancel(batch_id))

    def download(self, file_id: str | None) -> list[tuple[str, Answer, Usage]]:
        """The lines of an output or error file: (custom_id, answer, usage).

        A line that cannot be read is that request's unreadable answer when its custom_id can
        be read, and is skipped otherwise; either way with a warning, never an error for the job.
        """
        if not file_id:
            return []
        with calling("download"):
            text = self._client.files.content(file_id).text
        answers = []
        # Lines end at "\n" only: str.splitlines would also cut at a U+2028 inside an answer's text.
        for number, raw in enumerate(text.split("\n"), start=1):
            if not raw.strip():
                continue
            try:
                custom_id, answer, usage = parse_line(raw)
            except UnreadableLine as bad:
                logger.warning("batch-api: %s line %d: %s; not used", file_id, number, bad)
                continue
            if answer.unreadable:
                logger.warning(
                    "batch-api: %s line %d (custom_id %r): %s; not used", file_id, number, custom_id, answer.detail
                )
            answers.append((custom_id, answer, usage))
        return answers

    def close(self) -> None:
        self._client.close()


class UnreadableLine(ValueError):
    """An output or error file line that names no request."""


_CUSTOM_ID = re.compile(r'"custom_id"\s*:\s*("(?:[^"\\]|\\.)*")')


def parse_line(raw: str) -> tuple[str, Answer, Usage]:
    """One output/error file line: `custom_id`, `response` {status_code, body}, `error`.

    A line that is not what the Batch API writes (torn JSON, a body without choices...) gives
    an unreadable answer for its custom_id; one whose custom_id cannot be read raises
    `UnreadableLine`.
    """
    try:
        line = json.loads(raw)
    except (ValueError, RecursionError):
        return _custom_id_in_text(raw), Answer.unreadable_line("the line is not JSON (torn or cut off)"), Usage()
    if not isinstance(line, dict):
        raise UnreadableLine(f"a JSON {type(line).__name__}, not an object")
    custom_id = line.get("custom_id")
    if not isinstance(custom_id, str) or not custom_id:
        raise UnreadableLine("no custom_id")
    response, error = line.get("response"), line.get("error")
    if response is None and error is None:
        return custom_id, Answer.unreadable_line("neither a response nor an error"), Usage()
    if response is None:
        return custom_id, Answer(None, None, json.dumps(error)), Usage()
    if not isinstance(response, dict) or type(response.get("status_code")) is not int:
        return custom_id, Answer.unreadable_line("a response without a status code"), Usage()
    status, body = response["status_code"], response.get("body")
    usage = _usage(body)
    if status == 200 and not _has_message(body):
        return custom_id, Answer.unreadable_line("a 200 answer without a message in its choices", status), usage
    answer = Answer(
        status_code=status,
        body=json.dumps(body) if body is not None else None,
        error=json.dumps(error) if error is not None else None,
    )
    return custom_id, answer, usage


def _custom_id_in_text(raw: str) -> str:
    match = _CUSTOM_ID.search(raw)
    try:
        custom_id = json.loads(match.group(1)) if match else None
    except ValueError:
        custom_id = None
    if not isinstance(custom_id, str) or not custom_id:
        raise UnreadableLine("not JSON (torn or cut off), and no custom_id in it")
    return custom_id


def _has_message(body: Any) -> bool:
    choices = body.get("choices") if isinstance(body, dict) else None
    return (
        bool(choices)
        and isinstance(choices, list)
        and isinstance(choices[0], dict)
        and isinstance(choices[0].get("message"), dict)
    )


def _usage(body: Any) -> Usage:
    usage = body.get("usage") if isinstance(body, dict) else None
    if not isinstance(usage, dict):
        return Usage()
    prompt, completion = (usage.get(name) for name in ("prompt_tokens", "completion_tokens"))
    prompt = prompt if type(prompt) is int and prompt >= 0 else 0
    completion = completion if type(completion) is int and completion >= 0 else 0
    return Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion)
