"""The Files and Batches endpoints of the fault server, with the shapes OpenAI's Batch API uses.

A batch walks validating -> in_progress -> finalizing -> completed over `batch_seconds`
(measured from its creation, so a slow batch is simply a long one); it can instead fail at
validation, expire with part of its answers, or be cancelled. Output and error files hold
one line per request in the real format: `id`, `custom_id`, `response` (`status_code`,
`request_id`, `body`) and `error`. Every call is counted, so tests can prove that a resumed
job never uploaded or created twice.

An upload or a create can also fail after the fact: its reply held back (`*_delay`, past a
client's timeout) or an error status (`*_status`) once the file or batch exists, or refused
with a 500 before anything is made (`refuse_*`, the first N calls). `junk` writes lines the
real API never writes over the first lines of a result file.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

BATCH_OUTCOMES = ("completed", "failed", "expired")
# Share of the batch's duration spent in each status before the final one.
VALIDATING_UNTIL = 0.1
IN_PROGRESS_UNTIL = 0.8
TERMINAL = ("completed", "failed", "expired", "cancelled")
# Lines the real API never writes, each in place of one answer's line, except `unknown_custom_id`
# (an extra, otherwise valid line for a request nobody made).
JUNK_KINDS = ("torn", "array", "no_custom_id", "no_choices", "unknown_custom_id")
JUNK_FILES = ("output", "error")

Answer = Callable[[dict[str, Any], str], dict[str, Any]]  # (request body, fault) -> chat.completion


@dataclass
class BatchBehaviour:
    """How the fault server's batches behave; see `FaultConfig` for the command-line names."""

    seconds: float = 0.3
    outcome: str = "completed"
    expire_fraction: float = 0.5
    rate_invalid: float = 0.0
    rate_error: float = 0.0
    upload_delay: float = 0.0
    create_delay: float = 0.0
    upload_status: int = 200
    create_status: int = 200
    refuse_uploads: int = 0
    refuse_creates: int = 0
    junk: tuple[str, ...] = ()
    junk_file: str = "output"


@dataclass
class Reply:
    """What an endpoint answers: JSON, or raw bytes for a file's content."""

    status: int
    body: Any
    raw: bytes | None = None


@dataclass
class _Batch:
    data: dict[str, Any]
    created: float
    lines: list[dict[str, Any]]
    cancelled_at: float | None = None


@dataclass
class FaultBatches:
    """In-memory files and batches behind `/v1/files` and `/v1/batches`."""

    behaviour: BatchBehaviour
    answer: Answer
    seed: int | None = 0
    calls: Counter[str] = field(default_factory=Counter)
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    contents: dict[str, bytes] = field(default_factory=dict)
    batches: dict[str, _Batch] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    @staticmethod
    def handles(path: str) -> bool:
        return bool(re.search(r"/(files|batches)(/|$|\?)", path))

    async def respond(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Reply:
        url = urlsplit(path)
        parts = url.path.rstrip("/").split("/")
        tail = parts[parts.index("v1") + 1 :] if "v1" in parts else parts[1:]
        query = {name: values[0] for name, values in parse_qs(url.query).items()}
        route = (method, tail[0] if tail else "", len(tail), tail[-1] if len(tail) == 3 else None)
        if route == ("POST", "files", 1, None):
            return await self._upload(headers, body)
        if route == ("GET", "files", 1, None):
            self.calls["list_files"] += 1
            data = [f for f in self.files.values() if f["purpose"] == query.get("purpose", f["purpose"])]
            return Reply(200, _page(data))
        if route[:3] == ("GET", "files", 2) and tail[1] in self.files:
            return Reply(200, self.files[tail[1]])
        if route == ("GET", "files", 3, "content") and tail[1] in self.contents:
            self.calls["download"] += 1
            return Reply(200, None, raw=self.contents[tail[1]])
        if route == ("POST", "batches", 1, None):
            return await self._create(json.loads(body or b"{}"))
        if route == ("GET", "batches", 1, None):
            self.calls["list_batches"] += 1
            listed = sorted(self.batches.values(), key=lambda b: b.created, reverse=True)
            return Reply(200, _page([self._view(b) for b in listed][: int(query.get("limit", 20))]))
        if route[:3] == ("GET", "batches", 2) and tail[1] in self.batches:
            self.calls["poll"] += 1
            return Reply(200, self._view(self.batches[tail[1]]))
        if route == ("POST", "batches", 3, "cancel") and tail[1] in self.batches:
            self.calls["cancel"] += 1
            batch = self.batches[tail[1]]
            if self._status(batch) in TERMINAL:
                return Reply(200, self._view(batch))
            batch.cancelled_at = batch.cancelled_at or time.monotonic()
            # The real API answers "cancelling"; the next look finds it cancelled.
            return Reply(200, {**self._view(batch), "status": "cancelling"})
        return Reply(404, {"error": {"message": f"no route {method} {url.path}", "type": "invalid_request_error"}})

    # -- files ------------------------------------------------------------------------------

    async def _upload(self, headers: dict[str, str], body: bytes) -> Reply:
        fields = parse_multipart(headers.get("content-type", ""), body)
        if "file" not in fields or fields.get("purpose", (None, b""))[1] != b"batch":
            return Reply(
                400, {"error": {"message": "expected a file with purpose 'batch'", "type": "invalid_request_error"}}
            )
        if self.calls["upload_refused"] < self.behaviour.refuse_uploads:
            self.calls["upload_refused"] += 1
            return Reply(500, _server_error("the upload failed; nothing was stored"))
        filename, content = fields["file"]
        self.calls["upload"] += 1
        file_id = self._store_file(filename or "upload.jsonl", content, purpose="batch")
        # The file exists from here on: a client killed during this delay, or told it failed, has uploaded.
        await asyncio.sleep(self.behaviour.upload_delay)
        return _made(self.behaviour.upload_status, self.files[file_id])

    def _store_file(self, filename: str, content: bytes, *, purpose: str) -> str:
        file_id = f"file-{len(self.files) + 1:06d}"
        self.files[file_id] = {
            "id": file_id,
            "object": "file",
            "bytes": len(content),
            "created_at": int(time.time()),
            "filename": filename,
            "purpose": purpose,
            "status": "processed",
        }
        self.contents[file_id] = content
        return file_id

    # -- batches ----------------------------------------------------------------------------

    async def _create(self, request: dict[str, Any]) -> Reply:
        file_id = request.get("input_file_id")
        if file_id not in self.contents or request.get("endpoint") != "/v1/chat/completions":
            return Reply(
                400, {"error": {"message": "unknown input_file_id or endpoint", "type": "invalid_request_error"}}
            )
        if self.calls["create_refused"] < self.behaviour.refuse_creates:
            self.calls["create_refused"] += 1
            return Reply(500, _server_error("the create failed; no batch was made"))
        self.calls["create"] += 1
        lines = [json.loads(line) for line in self.contents[file_id].splitlines() if line.strip()]
        batch_id = f"batch_{len(self.batches) + 1:06d}"
        data = {
            "id": batch_id,
            "object": "batch",
            "endpoint": request["endpoint"],
            "errors": None,
            "input_file_id": file_id,
            "completion_window": request.get("completion_window", "24h"),
            "status": "validating",
            "output_file_id": None,
            "error_file_id": None,
            "created_at": int(time.time()),
            "request_counts": {"total": len(lines), "completed": 0, "failed": 0},
            "metadata": request.get("metadata"),
        }
        self.batches[batch_id] = _Batch(data, time.monotonic(), lines)
        await asyncio.sleep(self.behaviour.create_delay)
        return _made(self.behaviour.create_status, dict(data))  # as created: validating, whatever the time since

    def _progress(self, batch: _Batch) -> float:
        seconds = self.behaviour.seconds
        until = batch.cancelled_at or time.monotonic()
        return 1.0 if seconds <= 0 else min(1.0, (until - batch.created) / seconds)

    def _status(self, batch: _Batch) -> str:
        if batch.data["status"] in TERMINAL:
            return str(batch.data["status"])
        if batch.cancelled_at is not None:
            return "cancelled"
        progress = self._progress(batch)
        if progress < VALIDATING_UNTIL:
            return "validating"
        if self.behaviour.outcome == "failed":
            return "failed"
        if progress < IN_PROGRESS_UNTIL:
            return "in_progress"
        return "finalizing" if progress < 1.0 else self.behaviour.outcome

    def _view(self, batch: _Batch) -> dict[str, Any]:
        status = self._status(batch)
        data = batch.data
        if status in TERMINAL and data["status"] not in TERMINAL:
            self._finish(batch, status)
        elif status not in TERMINAL:
            data["status"] = status
            done = int(len(batch.lines) * min(1.0, self._progress(batch) / IN_PROGRESS_UNTIL))
            data["request_counts"] = {
                "total": len(batch.lines),
                "completed": done if status != "validating" else 0,
                "failed": 0,
            }
        return dict(data)

    def _finish(self, batch: _Batch, status: str) -> None:
        """Write the output and error files once, when the batch reaches its final status."""
        data = batch.data
        data["status"] = status
        data[f"{status}_at"] = int(time.time())
        if status == "failed":
            data["errors"] = {
                "object": "list",
                "data": [{"code": "invalid_request", "message": "failed by the fault server", "line": 1}],
            }
            return
        answered = len(batch.lines)
        if status == "expired":
            answered = int(len(batch.lines) * self.behaviour.expire_fraction)
        elif status == "cancelled":
            answered = int(len(batch.lines) * min(1.0, self._progress(batch) / IN_PROGRESS_UNTIL))
        output, errors = [], []
        for number, line in enumerate(batch.lines):
            custom_id = line.get("custom_id")
            if number >= answered:
                if status == "expired":
                    errors.append(
                        _error_line(
                            custom_id,
                            number,
                            "batch_expired",
                            "This request could not be executed before the completion window expired.",
                        )
                    )
                continue
            roll = self._rng.random()
            if roll < self.behaviour.rate_error:
                body = {"error": {"message": "internal error injected by the fault server", "type": "server_error"}}
                errors.append(
                    {
                        "id": f"batch_req_{number}",
                        "custom_id": custom_id,
                        "response": {"status_code": 500, "request_id": f"req_{number}", "body": body},
                        "error": None,
                    }
                )
                continue
            fault = "invalid" if roll < self.behaviour.rate_error + self.behaviour.rate_invalid else "ok"
            body = self.answer(line.get("body") or {}, fault)
            output.append(
                {
                    "id": f"batch_req_{number}",
                    "custom_id": custom_id,
                    "response": {"status_code": 200, "request_id": f"req_{number}", "body": body},
                    "error": None,
                }
            )
        data["request_counts"] = {"total": len(batch.lines), "completed": len(output), "failed": len(errors)}
        if self.behaviour.junk:
            _spoil(output if self.behaviour.junk_file == "output" else errors, self.behaviour.junk)
        if output:
            data["output_file_id"] = self._store_file(
                f"{data['id']}_output.jsonl", _jsonl(output), purpose="batch_output"
            )
        if errors:
            data["error_file_id"] = self._store_file(
                f"{data['id']}_error.jsonl", _jsonl(errors), purpose="batch_output"
            )


def _error_line(custom_id: Any, number: int, code: str, message: str) -> dict[str, Any]:
    return {
        "id": f"batch_req_{number}",
        "custom_id": custom_id,
        "response": None,
        "error": {"code": code, "message": message},
    }


def _made(status: int, made: dict[str, Any]) -> Reply:
    """The reply once a file or batch exists: itself, or the error status the behaviour asks for."""
    return Reply(200, made) if status == 200 else Reply(status, _server_error("failed after acting"))


def _server_error(message: str) -> dict[str, Any]:
    return {"error": {"message": f"{message} (fault server)", "type": "server_error"}}


def _spoil(lines: list[Any], kinds: tuple[str, ...]) -> None:
    """Junk over the first lines, one kind each (lines become raw text where the kind says)."""
    for number, kind in enumerate(kinds):
        if number >= len(lines):
            return
        line = lines[number]
        if kind == "torn":
            text = json.dumps(line)
            lines[number] = text[: len(text) // 2]
        elif kind == "array":
            lines[number] = "[1, 2]"
        elif kind == "no_custom_id":
            lines[number] = {name: value for name, value in line.items() if name != "custom_id"}
        elif kind == "no_choices":
            body = (line.get("response") or {}).get("body")
            if isinstance(body, dict):
                body.pop("choices", None)
        elif kind == "unknown_custom_id":
            lines.append({**line, "custom_id": "no-such-request"})


def _jsonl(lines: list[Any]) -> bytes:
    return "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines).encode()


def _page(data: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": False,
    }


def parse_multipart(content_type: str, body: bytes) -> dict[str, tuple[str | None, bytes]]:
    """Form fields of a multipart/form-data body: name -> (filename, content)."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not match:
        return {}
    fields: dict[str, tuple[str | None, bytes]] = {}
    for part in body.split(b"--" + match.group(1).encode())[1:]:
        head, _, content = part.partition(b"\r\n\r\n")
        disposition = head.decode("latin-1")
        name = re.search(r'name="([^"]*)"', disposition)
        if not name:
            continue
        filename = re.search(r'filename="([^"]*)"', disposition)
        fields[name.group(1)] = (filename.group(1) if filename else None, content.removesuffix(b"\r\n"))
    return fields
