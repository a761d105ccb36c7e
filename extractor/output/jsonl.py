"""The JSONL a batch writes while it runs: one complete line per finished article.

The file is rewritten on every run from what the run yields (earlier results first, from
the store), so a torn last line or a line of a result that is being redone never survives
a re-run, and no article appears twice. Each line goes out in one write and is flushed.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

from ..errors import InputError


class JsonlWriter:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.parent.is_dir():
            raise InputError(f"{self.path}: output directory does not exist")
        self._file = self.path.open("w", encoding="utf-8")
        self.lines = 0

    def write(self, line: str) -> None:
        self._file.write(line + "\n")
        self._file.flush()
        self.lines += 1

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> JsonlWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
