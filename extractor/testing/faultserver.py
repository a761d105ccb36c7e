"""A local OpenAI-compatible chat-completions server that misbehaves on purpose.

It answers real HTTP on 127.0.0.1 with configurable latency and rates of 429 (with
Retry-After), 500, hangs, dropped connections, malformed and schema-invalid answers, and
otherwise a valid extraction that quotes the article verbatim (so grounding keeps it).
It counts requests and in-flight requests, so tests can check what a batch really sent.

A bare asyncio HTTP/1.1 server rather than http.server: one event loop holds hundreds of
keep-alive connections without a thread each, and its own CPU stays small in benchmarks.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from ..input.block import article_in_messages
from .completions import answer_for
from .fault_batches import BATCH_OUTCOMES, JUNK_FILES, JUNK_KINDS, BatchBehaviour, FaultBatches

QUOTE_CHARS = 60
FAULTS = ("429", "500", "hang", "drop", "malformed", "invalid")
REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


@dataclass
class FaultConfig:
    """Latency in seconds and the probability of each fault per request (the rest succeed)."""

    latency: float = 0.0
    jitter: float = 0.0
    rate_429: float = 0.0
    retry_after: float = 0.05
    rate_500: float = 0.0
    rate_hang: float = 0.0
    hang_seconds: float = 300.0
    rate_drop: float = 0.0
    rate_malformed: float = 0.0
    rate_invalid: float = 0.0
    seed: int | None = 0
    # The Batch API (/v1/files, /v1/batches): see extractor.testing.fault_batches.
    batch_seconds: float = 0.3
    batch_outcome: str = "completed"
    batch_expire_fraction: float = 0.5
    batch_rate_invalid: float = 0.0
    batch_rate_error: float = 0.0
    upload_delay: float = 0.0
    create_delay: float = 0.0
    upload_status: int = 200
    create_status: int = 200
    refuse_uploads: int = 0
    refuse_creates: int = 0
    batch_junk: str = ""  # comma-separated: torn, array, no_custom_id, no_choices, unknown_custom_id
    batch_junk_file: str = "output"

    def batch_behaviour(self) -> BatchBehaviour:
        return BatchBehaviour(
            seconds=self.batch_seconds,
            outcome=self.batch_outcome,
            expire_fraction=self.batch_expire_fraction,
            rate_invalid=self.batch_rate_invalid,
            rate_error=self.batch_rate_error,
            upload_delay=self.upload_delay,
            create_delay=self.create_delay,
            upload_status=self.upload_status,
            create_status=self.create_status,
            refuse_uploads=self.refuse_uploads,
            refuse_creates=self.refuse_creates,
            junk=self.junk_kinds(),
            junk_file=self.batch_junk_file,
        )

    def junk_kinds(self) -> tuple[str, ...]:
        return tuple(kind.strip() for kind in self.batch_junk.split(",") if kind.strip())

    def rates(self) -> list[tuple[str, float]]:
        return [(name, getattr(self, f"rate_{name}")) for name in FAULTS]

    def __post_init__(self) -> None:
        if sum(rate for _, rate in self.rates()) > 1.0:
            raise ValueError("fault rates add up to more than 1")
        if self.batch_outcome not in BATCH_OUTCOMES:
            raise ValueError(f"batch outcome must be one of {', '.join(BATCH_OUTCOMES)}")
        if self.batch_rate_invalid + self.batch_rate_error > 1.0:
            raise ValueError("batch fault rates add up to more than 1")
        if unknown := set(self.junk_kinds()) - set(JUNK_KINDS):
            raise ValueError(f"batch junk must be among {', '.join(JUNK_KINDS)}, not {', '.join(sorted(unknown))}")
        if self.batch_junk_file not in JUNK_FILES:
            raise ValueError(f"batch junk file must be one of {', '.join(JUNK_FILES)}")


@dataclass
class ServerStats:
    requests: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    batch_calls: Counter[str] = field(default_factory=Counter)  # upload, create, poll, download, cancel, list_*

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "outcomes": dict(self.outcomes), "batch_calls": dict(self.batch_calls)}


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class FaultServer:
    """Use as a context manager (serves from a background thread) or `await serve()`."""

    def __init__(self, config: FaultConfig | None = None, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.config = config or FaultConfig()
        self.host = host
        self.port = port
        self.stats = ServerStats()
        self._rng = random.Random(self.config.seed)
        self.batches = FaultBatches(
            self.config.batch_behaviour(), completion, seed=self.config.seed, calls=self.stats.batch_calls
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stopped: asyncio.Event | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, self.host, self.port, backlog=2048)
        self.port = self._server.sockets[0].getsockname()[1]

    async def serve(self) -> None:
        """Serve until `stop()` (or cancellation)."""
        self._loop = asyncio.get_running_loop()
        self._stopped = asyncio.Event()
        await self.start()
        self._ready.set()
        try:
            await self._stopped.wait()
        finally:
            assert self._server is not None
            self._server.close()
            # Hanging handlers would keep wait_closed() waiting; they end with the loop.

    def stop(self) -> None:
        if self._loop is not None and self._stopped is not None:
            self._loop.call_soon_threadsafe(self._stopped.set)

    def __enter__(self) -> FaultServer:
        self._thread = threading.Thread(target=lambda: asyncio.run(self.serve()), daemon=True, name="fault-server")
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the fault server did not start")
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
        if self._thread is not None:
            self._thread.join(10)

    # -- HTTP -------------------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while (request := await _read_request(reader)) is not None:
                if not await self._respond(request, reader, writer):
                    break
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        except asyncio.CancelledError:
            # The server is stopping with this keep-alive connection still open: not an error.
            pass
        finally:
            writer.close()

    async def _respond(self, request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Answer one request; False closes the connection."""
        if request.method == "GET" and request.path.rstrip("/").endswith("/stats"):
            return await _send(writer, 200, self.stats.as_dict())
        if FaultBatches.handles(request.path):
            reply = await self.batches.respond(request.method, request.path, request.headers, request.body)
            if reply.raw is not None:
                return await _send_raw(writer, reply.status, reply.raw, "application/octet-stream")
            return await _send(writer, reply.status, reply.body)
        if request.method != "POST" or not request.path.rstrip("/").endswith("/chat/completions"):
            return await _send(writer, 404, {"error": {"message": f"no route {request.method} {request.path}"}})
        stats = self.stats
        stats.requests += 1
        stats.in_flight += 1
        stats.max_in_flight = max(stats.max_in_flight, stats.in_flight)
        try:
            fault = self._pick_fault()
            stats.outcomes[fault] += 1
            if fault == "hang":
                # Until the client gives up (its timeout closes the connection) or hang_seconds.
                try:
                    await asyncio.wait_for(reader.read(), self.config.hang_seconds)
                except TimeoutError:
                    pass
                return False
            await asyncio.sleep(self._latency())
            if fault == "drop":
                return False
            if fault == "429":
                retry_after = {"retry-after": f"{self.config.retry_after:g}"}
                return await _send(writer, 429, _error("rate limited by the fault server"), retry_after)
            if fault == "500":
                return await _send(writer, 500, _error("internal error injected by the fault server"))
            return await _send(writer, 200, completion(json.loads(request.body or b"{}"), fault))
        finally:
            stats.in_flight -= 1

    def _pick_fault(self) -> str:
        roll = self._rng.random()
        for name, rate in self.config.rates():
            if roll < rate:
                return name
            roll -= rate
        return "ok"

    def _latency(self) -> float:
        jitter = self.config.jitter
        return max(0.0, self.config.latency + (self._rng.uniform(-jitter, jitter) if jitter else 0.0))


async def _read_request(reader: asyncio.StreamReader) -> Request | None:
    line = await reader.readline()
    if not line:
        return None
    method, path, _ = line.decode("latin-1").split(" ", 2)
    headers: dict[str, str] = {}
    while (header := await reader.readline()) not in (b"\r\n", b"\n", b""):
        name, _, value = header.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    body = await reader.readexactly(length) if length else b""
    return Request(method, path, headers, body)


async def _send(writer: asyncio.StreamWriter, status: int, body: Any, headers: dict[str, str] | None = None) -> bool:
    return await _send_raw(writer, status, json.dumps(body).encode(), "application/json", headers)


async def _send_raw(
    writer: asyncio.StreamWriter, status: int, payload: bytes, content_type: str, headers: dict[str, str] | None = None
) -> bool:
    head = [f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}", f"content-type: {content_type}"]
    head += [f"content-length: {len(payload)}", "connection: keep-alive"]
    head += [f"{name}: {value}" for name, value in (headers or {}).items()]
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + payload)
    await writer.drain()
    return True


def _error(message: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "fault_server"}}


# -- answers ------------------------------------------------------------------------------


def article_text(body: dict[str, Any]) -> str:
    return article_in_messages(body.get("messages") or []) or ""


def valid_draft(text: str) -> dict[str, Any]:
    """One exercise, aircraft and statement, each quoting the article's first line verbatim."""
    first_line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    quote = first_line[:QUOTE_CHARS].strip()
    if not quote:
        return {"exercises": [], "aircraft": [], "statements": []}
    evidence = [{"quote": quote}]
    return {
        "exercises": [
            {
                "description": "activity reported by the fault server",
                "kind": "other",
                "status": "conducted",
                "evidence": evidence,
            }
        ],
        "aircraft": [{"designation": "B-52H", "mention": "B-52", "role": "bomber", "evidence": evidence}],
        "statements": [
            {
                "speaker": {"name": "Fault Server", "kind": "organization"},
                "summary": "The fault server made a statement.",
                "stance": "neutral",
                "evidence": evidence,
            }
        ],
    }


INVALID_DRAFT = {"exercises": [{"description": "a drill", "kind": "underwater", "status": "conducted", "evidence": []}]}
MALFORMED_ARGUMENTS = '{"exercises": [{"description": "cut off'


def completion(body: dict[str, Any], fault: str) -> dict[str, Any]:
    """A chat.completion: a tool call when the request offered tools, else JSON content."""
    if fault == "malformed":
        arguments = MALFORMED_ARGUMENTS
    else:
        arguments = json.dumps(INVALID_DRAFT if fault == "invalid" else valid_draft(article_text(body)))
    # Rough token counts (4 characters a token), so rate limits and cost reports see traffic.
    prompt_tokens = max(1, len(json.dumps(body.get("messages") or [])) // 4)
    completion_tokens = max(1, len(arguments) // 4)
    return answer_for(
        body, arguments, completion_id="fault", usage=(prompt_tokens, completion_tokens), default_model="fault-server"
    )


def main(argv: list[str] | None = None) -> None:
    """`python -m extractor.testing.faultserver` (the same as `extractor fault-server`)."""
    import argparse

    parser = argparse.ArgumentParser(prog="extractor.testing.faultserver")
    parser.add_argument("--port", type=int, default=0)
    for name, value in asdict(FaultConfig()).items():
        parser.add_argument(
            f"--{name.replace('_', '-')}", type=type(value) if value is not None else int, default=value
        )
    args = vars(parser.parse_args(argv))
    port = args.pop("port")
    run_forever(FaultServer(FaultConfig(**args), port=port))


def run_forever(server: FaultServer) -> None:
    async def serve() -> None:
        task = asyncio.create_task(server.serve())
        while not server._ready.is_set():
            await asyncio.sleep(0.01)
        print(f"fault server listening on {server.base_url}", flush=True)
        await task

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
