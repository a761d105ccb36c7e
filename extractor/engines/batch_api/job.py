"""A batch job through the Batch API: submit, wait, then finish every article like the live path.

`BatchApiRun.run(plan)` yields the same `Outcome`s as `BatchJob.run`, into the same
store: the articles are first written to request files, uploaded, batched and waited for
(each step recorded before the next, see `state`), then the ordinary `BatchJob` processes
every article with the batch's answers standing in for the model (see `intercept`), so
validation, re-asks, grounding, normalization, twins and failures are the live path's own.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from ...errors import ConfigError
from ...input.sources import SourceItem
from ...jobs.outcome import Origin, Outcome
from ...jobs.store import Plan
from ...model_call.transport import CallMeter
from ...schemas import Usage
from ..local import BatchJob
from .intercept import Serving, intercept, serving
from .remote import BatchView, RemoteBatches
from .requests import MAX_BYTES, MAX_REQUESTS, RequestLine, render_requests, request_lines, split_files
from .state import FINAL_BATCH_STATUSES, Answer, BatchApiState, Chunk

if TYPE_CHECKING:
    from ...pipeline import Extractor

logger = logging.getLogger("extractor.batch_api")


@dataclass
class BatchApiOptions:
    """`live_fallback`: send what the batch did not answer well to the live path.

    Polls start `poll_initial` seconds apart and back off (doubling) to `poll_max`.
    """

    live_fallback: bool = True
    poll_initial: float = 5.0
    poll_max: float = 60.0
    max_requests: int = MAX_REQUESTS
    max_bytes: int = MAX_BYTES


def print_status(chunk: Chunk, view: BatchView) -> None:
    """The default progress line: the batch's status and request counts, on stderr."""
    print(
        f"batch-api: {view.id} ({chunk.requests} requests): {view.status}, "
        f"{view.completed}/{view.total} completed, {view.failed} failed",
        file=sys.stderr,
        flush=True,
    )


class BatchApiRun:
    """Runs a `BatchJob`'s plan through the Batch API; resumable at every step."""

    def __init__(
        self,
        job: BatchJob,
        options: BatchApiOptions | None = None,
        *,
        on_status: Callable[[Chunk, BatchView], None] | None = print_status,
        remote: RemoteBatches | None = None,
    ) -> None:
        extractor = cast("Extractor", job.extractor)  # requests are rendered and answers layered by the full Extractor
        if extractor.provider == "local":
            raise ConfigError("--via batch-api needs an OpenAI-compatible server, not the local model")
        # Batch answers come in under the retries and metering, as a live answer would.
        extractor.add_answer_layer(intercept)
        self.job = job
        self.options = options or BatchApiOptions()
        self.on_status = on_status
        self.state = BatchApiState(job.store)
        self.fingerprint = job.fingerprint
        self._remote = remote
        self.served: Serving | None = None

    @property
    def extractor(self) -> Any:
        """The wrapped job's `Extractor`."""
        return self.job.extractor

    @property
    def meter(self) -> CallMeter:
        """Every request this run sent: the wrapped job's meter (batch answers and live calls)."""
        return self.job.meter

    @property
    def remote(self) -> RemoteBatches:
        if self._remote is None:
            self._remote = RemoteBatches(self.job.extractor)
        return self._remote

    def plan(self, items: Iterable[SourceItem], *, retry_failed: bool = False) -> Plan:
        return self.job.plan(items, retry_failed=retry_failed)

    async def run(self, plan: Plan) -> AsyncIterator[Outcome]:
        await self.submit(plan)
        self.wait()
        answers = self.state.answers_by_body(self.fingerprint)
        with serving(answers, live_fallback=self.options.live_fallback) as served:
            self.served = served
            async for outcome in self.job.run(plan):
                if outcome.origin is Origin.EXTRACTED and outcome.key in served.answered:
                    outcome.origin = Origin.BATCH_API
                yield outcome

    # -- steps ------------------------------------------------------------------------------

    async def submit(self, plan: Plan) -> int:
        """Write request files for the articles no earlier run submitted; the number of new requests.

        An article triage leaves out is never in a request file: the unit of work skips it too.
        """
        submitted = self.state.submitted(self.fingerprint)
        texts = {sha for _, sha in submitted}
        lines: list[RequestLine] = []
        for item in plan.work:
            sha = item.article.sha256
            # An identical text is asked once; the job copies its result to the twins.
            if (item.key, sha) in submitted or sha in texts or self.job.work.skips(item.article):
                continue
            texts.add(sha)
            lines.extend(request_lines(item, await render_requests(self.job.extractor, item)))
        options = self.options
        files = split_files(
            lines, fingerprint=self.fingerprint, max_requests=options.max_requests, max_bytes=options.max_bytes
        )
        for request_file in files:
            self.state.add_chunk(self.fingerprint, request_file.name, request_file.content, request_file.requests)
        return len(lines)

    def wait(self) -> None:
        """Upload, create, poll and download every unfinished request file of this job."""
        chunks = [self._start(chunk) for chunk in self.state.chunks(self.fingerprint) if chunk.step != "downloaded"]
        delay = self.options.poll_initial
        shown: dict[int, BatchView] = {}
        while chunks:
            waiting = []
            for chunk in chunks:
                view = self.remote.poll(chunk.batch_id or "")
                self.state.set_status(chunk.id, view.status, view.completed, view.failed)
                if self.on_status is not None and shown.get(chunk.id) != view:
                    self.on_status(chunk, view)
                shown[chunk.id] = view
                if view.status in FINAL_BATCH_STATUSES:
                    self._download(chunk, view)
                else:
                    waiting.append(chunk)
            chunks = waiting
            if chunks:
                time.sleep(delay)
                delay = min(delay * 2, self.options.poll_max)

    def _start(self, chunk: Chunk) -> Chunk:
        """Upload the file and create its batch, unless an earlier run did (even if it died mid-call)."""
        if chunk.step in ("written", "uploading"):
            died_uploading = chunk.step == "uploading"
            self.state.set_step(chunk.id, "uploading")
            file_id = self.remote.upload(chunk.name, self.state.content(chunk.id), look_first=died_uploading)
            chunk = self.state.set_step(chunk.id, "uploaded", file_id=file_id)
        if chunk.step in ("uploaded", "creating"):
            died_creating = chunk.step == "creating"
            self.state.set_step(chunk.id, "creating")
            view = self.remote.create(chunk.file_id or "", chunk.name, self.state.tag(chunk), look_first=died_creating)
            chunk = self.state.set_step(chunk.id, "created", batch_id=view.id, batch_status=view.status)
        return chunk

    def _download(self, chunk: Chunk, view: BatchView) -> None:
        """Keep the answers to this chunk's requests; a line for a request it never made is ignored."""
        asked = self.state.custom_ids(chunk.id)
        answers: dict[str, tuple[str, Answer, Usage]] = {}
        lines = self.remote.download(view.output_file_id) + self.remote.download(view.error_file_id)
        for custom_id, answer, usage in lines:
            if custom_id not in asked:
                logger.warning(
                    "batch-api: %s answered custom_id %r, not one of its requests: ignored", view.id, custom_id
                )
            elif custom_id not in answers or answers[custom_id][1].unreadable:
                answers[custom_id] = (custom_id, answer, usage)
        self.state.store_answers(chunk.id, list(answers.values()), view.status)

    def cancel(self) -> list[BatchView]:
        """Cancel this job's batches that are still running at the server."""
        cancelled = []
        for chunk in self.state.chunks(self.fingerprint):
            if chunk.step == "creating":
                found = self.remote.find_batch(self.state.tag(chunk))
                chunk = self.state.set_step(chunk.id, "created", batch_id=found.id) if found else chunk
            if chunk.step != "created" or chunk.batch_status in FINAL_BATCH_STATUSES:
                continue
            view = self.remote.cancel(chunk.batch_id or "")
            self.state.set_status(chunk.id, view.status, view.completed, view.failed)
            cancelled.append(view)
        return cancelled

    # -- reporting --------------------------------------------------------------------------

    def report(self) -> dict[str, Any]:
        """What the Batch API did for this job: files, batches, answers, live fallbacks, and the tokens
        its batches answered over every run."""
        chunks = self.state.chunks(self.fingerprint)
        served = self.served
        return {
            "request_files": len(chunks),
            "requests": sum(chunk.requests for chunk in chunks),
            "batches": {chunk.batch_id or chunk.name: chunk.batch_status or chunk.step for chunk in chunks},
            "answered_from_batch": served.from_batch if served else 0,
            "live_fallback": dict(served.counts()) if served else {},
            "batch_tokens": self.state.batch_usage(self.fingerprint).model_dump(),
        }

    def close(self) -> None:
        if self._remote is not None:
            self._remote.close()
