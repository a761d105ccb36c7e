"""What `--engine ray` writes, and what a rerun reads back to skip finished articles.

The output is the Ray job's store (`OutputStore`, the unit of work's `OutcomeStore`):
* JSONL (default): the local engine's line format, appended and flushed batch by batch;
  a rerun first rewrites the file without a torn last line or results of another reuse key.
* Parquet (`--format parquet`): OUT is a directory of part files, each written whole
  (temporary name, then renamed) every `PART_ROWS` results or `PART_SECONDS`; columns id,
  sha256, fingerprint, reuse_key and result (the line). A rerun rewrites the parts that hold
  results of another reuse key without them.
Every result line carries its reuse key (`meta.reuse_key`: model call, grounding, gazetteer,
post-processing code), so a rerun after `--grounding off` or a gazetteer change extracts
again instead of keeping stale results; lines without one (older outputs) are extracted again.
Failures go to OUT.failures.jsonl (rewritten each run: a rerun tries failed articles again).
With triage, the articles it skipped go to OUT.skipped.jsonl (rewritten each run: a rerun
triages them again, deciding the same unless the rules changed; a run without triage removes
the file and extracts them).
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...errors import InputError
from ...input.sources import SourcedArticle
from ...jobs.outcome import Adopt, Origin, Outcome, Status, copy_header
from ...jobs.unit import NoStore
from ...output.files import write_atomically
from ...schemas import Article, ArticleExtraction, Usage

# A Parquet part per this many results or seconds, whichever comes first: fewer, larger
# files than one per batch; a killed driver loses at most that much (it is extracted again).
PART_ROWS = 1000
PART_SECONDS = 10.0
FORMATS = ("jsonl", "parquet")


@dataclass
class Finished:
    """The results already in the output for one text (sha256): article id → line."""

    lines: dict[str, str] = field(default_factory=dict)

    def outcome(self, key: str, *, where: str | None) -> Outcome:
        """The earlier result of article `key`, as the local engine reports a resumed one."""
        line = self.lines[key]
        meta = json.loads(line).get("meta") or {}
        return Outcome(
            key=key,
            status=Status.DONE,
            where=where,
            line=line,
            origin=Origin.RESUMED,
            reuse_key=meta.get("reuse_key"),
            attempts=int(meta.get("attempts") or 0),
            usage=Usage.model_validate(meta.get("usage") or {}),
            latency_ms=meta.get("latency_ms"),
        )

    def copied_for(self, header_json: str) -> str:
        """The result under another article's header (an identical text with another id)."""
        result = ArticleExtraction.model_validate_json(next(iter(self.lines.values())))
        return result.model_copy(update={"article": Article.model_validate_json(header_json)}).model_dump_json()


def failures_path(out: Path) -> Path:
    return out.with_name(out.name + ".failures.jsonl")


def skipped_path(out: Path) -> Path:
    return out.with_name(out.name + ".skipped.jsonl")


def read_finished(out: Path, *, fmt: str, reuse_key: str) -> dict[str, Finished]:
    """sha256 → results in the output made with this reuse key (one per article id)."""
    finished: dict[str, Finished] = {}
    for line in _parquet_lines(out) if fmt == "parquet" else _jsonl_lines(out):
        parsed = _parsed(line)
        if parsed is not None and parsed[2] == reuse_key:
            article_id, sha256, _ = parsed
            finished.setdefault(sha256, Finished()).lines.setdefault(article_id, line)
    return finished


def _parsed(line: str) -> tuple[str, str, str | None] | None:
    """(article id, sha256, reuse key) of a result line; None for a torn line of a killed run."""
    try:
        record = json.loads(line)
        article, meta = record["article"], record["meta"]
        return str(article["id"]), str(article["sha256"]), meta.get("reuse_key")
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


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
        if fmt not in FORMATS:
            raise InputError(f"--format must be jsonl or parquet, not {fmt!r}")
        self.out, self.fmt = Path(out), fmt
        if not self.out.parent.is_dir():
            raise InputError(f"{self.out}: output directory does not exist")
        self._run = uuid.uuid4().hex[:8]
        self._parts = 0
        self._pending: list[tuple[str, str]] = []  # (id, line) not yet in a Parquet part
        self._last_part = time.monotonic()
        kept = [line for finished in keep.values() for line in finished.lines.values()]
        if fmt == "jsonl":
            if self.out.is_dir():
                raise InputError(f"{self.out}: is a directory, not an output file (use --format parquet)")
            write_atomically(self.out, "".join(line + "\n" for line in kept))
            self._file: Any = self.out.open("a", encoding="utf-8")
        else:
            if self.out.exists() and not self.out.is_dir():
                raise InputError(f"{self.out}: --format parquet writes a directory of part files")
            self.out.mkdir(exist_ok=True)
            _keep_parts(self.out, set(kept))

    def write(self, outcomes: Iterable[Outcome]) -> None:
        done = [(outcome.key, outcome.line) for outcome in outcomes if outcome.line is not None and not outcome.resumed]
        if not done:
            return
        if self.fmt == "jsonl":
            self._file.write("".join(line + "\n" for _, line in done))
            self._file.flush()
            return
        self._pending.extend(done)
        if len(self._pending) >= PART_ROWS or time.monotonic() - self._last_part >= PART_SECONDS:
            self._write_part()

    def _write_part(self) -> None:
        """The pending results as one Parquet file, which appears whole (renamed into place)."""
        if not self._pending:
            return
        self._parts += 1
        _write_part(self.out / f"part-{self._run}-{self._parts:06d}.parquet", [line for _, line in self._pending])
        self._pending, self._last_part = [], time.monotonic()

    def close(self) -> None:
        if self.fmt == "jsonl":
            self._file.close()
        else:
            self._write_part()


def _write_part(final: Path, lines: list[str]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    parsed = [_parsed(line) or ("", "", None) for line in lines]
    meta = [(json.loads(line).get("meta") or {}) for line in lines]
    table = pa.table(
        {
            "id": [article_id for article_id, _, _ in parsed],
            "sha256": [sha256 for _, sha256, _ in parsed],
            "fingerprint": [m.get("fingerprint") for m in meta],
            "reuse_key": [key for _, _, key in parsed],
            "result": lines,
        }
    )
    temporary = final.with_name("." + final.name + ".tmp")
    pq.write_table(table, temporary)
    os.replace(temporary, final)


def _keep_parts(out: Path, kept: set[str]) -> None:
    """Parts holding a result not kept (another reuse key, or a fresh run) rewritten without it."""
    for part in sorted(out.glob("part-*.parquet")):
        lines = _parquet_lines_of(part)
        keep = [line for line in lines if line in kept]
        if len(keep) == len(lines):
            continue
        if keep:
            _write_part(part, keep)
        else:
            part.unlink()


def _parquet_lines_of(part: Path) -> list[str]:
    import pyarrow.parquet as pq

    lines: list[str] = pq.read_table(part, columns=["result"]).column("result").to_pylist()
    return lines


class RecordWriter:
    """A file of one JSON record per article of one status, rewritten each run: OUT.failures.jsonl
    (`Outcome.failure_record`, with the cause) or OUT.skipped.jsonl (`Outcome.skip_record`)."""

    def __init__(self, path: Path, status: Status) -> None:
        self.path = path
        self.status = status
        self._file = path.open("w", encoding="utf-8")

    def write(self, outcomes: Iterable[Outcome]) -> None:
        chosen = [outcome for outcome in outcomes if outcome.status is self.status]
        for outcome in chosen:
            record = outcome.skip_record() if self.status is Status.SKIPPED else outcome.failure_record()
            self._file.write(json.dumps(record, ensure_ascii=False) + "\n")
        if chosen:
            self._file.flush()

    def close(self) -> None:
        self._file.close()


def read_failures(path: Path) -> list[Outcome]:
    """The failed articles a Ray run wrote (OUT.failures.jsonl); a torn last line is skipped."""
    outcomes = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
            outcomes.append(Outcome.from_failure_record(record))
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
    return outcomes


class OutputStore(NoStore):
    """The output as a Ray job's store: what earlier runs finished, and where outcomes are written.

    It implements the unit of work's `OutcomeStore`; the driver records what the actors send
    back (`record`) after filling in the outcomes of texts the output already held (`resolve`).
    Calls are not recorded one by one: an actor's calls reach the driver with its outcome.
    """

    def __init__(self, out: Path, *, fmt: str, reuse_key: str, resume: bool, triage: bool = False) -> None:
        self.out = Path(out)
        self.reuse_key = reuse_key
        self.finished = read_finished(self.out, fmt=fmt, reuse_key=reuse_key) if resume else {}
        self.results = ResultWriter(self.out, fmt=fmt, keep=self.finished)
        self.writers: list[ResultWriter | RecordWriter] = [self.results]
        try:
            self.failures = RecordWriter(failures_path(self.out), Status.FAILED)
            self.writers.append(self.failures)
            if triage:
                self.writers.append(RecordWriter(skipped_path(self.out), Status.SKIPPED))
            else:
                # An earlier run's list: this run extracts those articles.
                skipped_path(self.out).unlink(missing_ok=True)
        except BaseException:
            self.close()
            raise

    @property
    def known(self) -> set[str]:
        """The sha256s of the texts the output holds with this reuse key."""
        return set(self.finished)

    def earlier(self, item: SourcedArticle, reuse_key: str, adopt: Adopt = copy_header) -> Outcome | None:
        if reuse_key != self.reuse_key or item.article.sha256 not in self.finished:
            return None
        return self.resolve(
            Outcome.of(item, Status.DONE, origin=Origin.RESUMED, article_header=item.article.header().model_dump_json())
        )

    def resolve(self, outcome: Outcome) -> Outcome:
        """An outcome whose result the output holds, filled in: the article's own earlier result
        (resumed), or an identical text's copied under its header (reused, no model call)."""
        if outcome.line is not None or outcome.status is not Status.DONE or outcome.sha256 not in self.finished:
            return outcome
        earlier = self.finished[outcome.sha256]
        if outcome.key in earlier.lines:
            return earlier.outcome(outcome.key, where=outcome.where)
        source = next(iter(earlier.lines))
        return Outcome(
            key=outcome.key,
            status=Status.DONE,
            where=outcome.where,
            line=earlier.copied_for(outcome.article_header or "{}"),
            origin=Origin.REUSED,
            sha256=outcome.sha256,
            reuse_key=self.reuse_key,
            reused_from=source,
        )

    def record(self, outcome: Outcome) -> None:
        self.record_all([outcome])

    def record_all(self, outcomes: list[Outcome]) -> None:
        """A batch of outcomes: results appended (flushed), failures and skipped articles to their files."""
        for writer in self.writers:
            writer.write(outcomes)

    def close(self) -> None:
        with ExitStack() as files:  # every file closed, even when one fails to
            for writer in self.writers:
                files.callback(writer.close)
