"""What `--engine ray` writes, and what a rerun reads back to skip finished articles.

Results go out as they arrive, so a killed driver loses little:
* JSONL (default): the local engine's line format, appended and flushed batch by batch;
  a rerun first rewrites the file without a torn last line or results of other settings.
* Parquet (`--format parquet`): OUT is a directory of part files, each written whole
  (temporary name, then renamed) every `PART_ROWS` results or `PART_SECONDS`; columns id,
  sha256, fingerprint and result (the line).
Failures go to OUT.failures.jsonl (rewritten each run: a rerun tries failed articles again).
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...errors import InputError
from ...output.files import write_atomically
from ...schemas import Article, ArticleExtraction, Usage
from ..local import BatchOutcome

# A Parquet part per this many results or seconds, whichever comes first: fewer, larger
# files than one per batch; a killed driver loses at most that much (it is extracted again).
PART_ROWS = 1000
PART_SECONDS = 10.0


@dataclass
class Finished:
    """The results already in the output for one text (sha256): article id → line."""

    lines: dict[str, str] = field(default_factory=dict)

    def outcome(self, key: str, *, where: str | None) -> BatchOutcome:
        """The earlier result of article `key`, as the local engine reports a resumed one."""
        line = self.lines[key]
        meta = json.loads(line).get("meta") or {}
        return BatchOutcome(
            key=key,
            status="done",
            where=where,
            line=line,
            attempts=int(meta.get("attempts") or 0),
            usage=Usage.model_validate(meta.get("usage") or {}),
            latency_ms=meta.get("latency_ms"),
            resumed=True,
        )

    def copied_for(self, header_json: str) -> str:
        """The result under another article's header (an identical text with another id)."""
        result = ArticleExtraction.model_validate_json(next(iter(self.lines.values())))
        return result.model_copy(update={"article": Article.model_validate_json(header_json)}).model_dump_json()


def failures_path(out: Path) -> Path:
    return out.with_name(out.name + ".failures.jsonl")


def read_finished(out: Path, *, fmt: str, fingerprint: str) -> dict[str, Finished]:
    """sha256 → results in the output made with these settings (one per article id)."""
    lines = _parquet_lines(out) if fmt == "parquet" else _jsonl_lines(out)
    finished: dict[str, Finished] = {}
    for line in lines:
        try:
            record = json.loads(line)
            article, meta = record["article"], record["meta"]
        except (ValueError, KeyError, TypeError):
            continue  # a torn line of a killed run
        if meta.get("fingerprint") == fingerprint:
            finished.setdefault(article["sha256"], Finished()).lines.setdefault(article["id"], line)
    return finished


def _jsonl_lines(out: Path) -> list[str]:
    if not out.is_file():
        return []
    return out.read_text(encoding="utf-8").splitlines()


def _parquet_lines(out: Path) -> list[str]:
    if not out.is_dir():
        return []
    import pyarrow.parquet as pq

    lines: list[str] = []
    for part in sorted(out.glob("part-*.parquet")):
        lines.extend(pq.read_table(part, columns=["result"]).column("result").to_pylist())
    return lines


class ResultWriter:
    """Results of this run after those kept from earlier runs; one article, one result."""

    def __init__(self, out: Path, *, fmt: str, keep: dict[str, Finished]) -> None:
        if fmt not in ("jsonl", "parquet"):
            raise InputError(f"--format must be jsonl or parquet, not {fmt!r}")
        self.out, self.fmt = Path(out), fmt
        if not self.out.parent.is_dir():
            raise InputError(f"{self.out}: output directory does not exist")
        self._run = uuid.uuid4().hex[:8]
        self._parts = 0
        self._pending: list[tuple[str, str]] = []  # (id, line) not yet in a Parquet part
        self._fingerprint = ""
        self._last_part = time.monotonic()
        if fmt == "jsonl":
            if self.out.is_dir():
                raise InputError(f"{self.out}: is a directory, not an output file (use --format parquet)")
            kept = (line for finished in keep.values() for line in finished.lines.values())
            write_atomically(self.out, "".join(line + "\n" for line in kept))
            self._file: Any = self.out.open("a", encoding="utf-8")
        else:
            if self.out.exists() and not self.out.is_dir():
                raise InputError(f"{self.out}: --format parquet writes a directory of part files")
            self.out.mkdir(exist_ok=True)
            if not keep:
                for stale in self.out.glob("part-*.parquet"):
                    stale.unlink()

    def write(self, outcomes: list[BatchOutcome], fingerprint: str) -> None:
        done = [outcome for outcome in outcomes if outcome.line is not None and not outcome.resumed]
        if not done:
            return
        if self.fmt == "jsonl":
            self._file.write("".join(outcome.line + "\n" for outcome in done))
            self._file.flush()
            return
        self._pending.extend((outcome.key, outcome.line) for outcome in done)
        self._fingerprint = fingerprint
        if len(self._pending) >= PART_ROWS or time.monotonic() - self._last_part >= PART_SECONDS:
            self._write_part()

    def _write_part(self) -> None:
        """The pending results as one Parquet file, which appears whole (renamed into place)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        if not self._pending:
            return
        table = pa.table(
            {
                "id": [key for key, _ in self._pending],
                "sha256": [json.loads(line)["article"]["sha256"] for _, line in self._pending],
                "fingerprint": [self._fingerprint] * len(self._pending),
                "result": [line for _, line in self._pending],
            }
        )
        self._parts += 1
        final = self.out / f"part-{self._run}-{self._parts:06d}.parquet"
        temporary = final.with_name("." + final.name + ".tmp")
        pq.write_table(table, temporary)
        os.replace(temporary, final)
        self._pending, self._last_part = [], time.monotonic()

    def close(self) -> None:
        if self.fmt == "jsonl":
            self._file.close()
        else:
            self._write_part()


class FailureWriter:
    """OUT.failures.jsonl: one line per failed article, with its reason."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = path.open("w", encoding="utf-8")

    def write(self, outcomes: list[BatchOutcome]) -> None:
        failed = [outcome for outcome in outcomes if outcome.status == "failed"]
        for outcome in failed:
            record = {
                "id": outcome.key,
                "where": outcome.where,
                "error_class": outcome.error_class,
                "cause": outcome.cause,
                "message": outcome.message,
                "attempts": outcome.attempts,
            }
            self._file.write(json.dumps(record, ensure_ascii=False) + "\n")
        if failed:
            self._file.flush()

    def close(self) -> None:
        self._file.close()
