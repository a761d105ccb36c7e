"""Fixture files on disk: one pretty-printed JSON file per request, named by its key.

File names are `<article label>.<key>.json`; the label only helps people find an article's
files, lookups go by key. Only top-level files are fixtures, so subfolders (such as the
authored answers in `reference/`) can live beside them.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError, InputError
from ..input.reading import parse_json
from ..output.files import write_json_atomically

FILE_PATTERN = re.compile(r"^(?:(?P<label>.+)\.)?(?P<key>[0-9a-f]{64})\.json$")
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


@dataclass(frozen=True)
class Fixture:
    path: Path
    data: dict[str, Any]

    @property
    def key(self) -> str:
        return str(self.data.get("key", ""))

    @property
    def origin(self) -> str:
        return str(self.data.get("origin", "recorded"))

    # A fixture file is edited by hand at times: every part is read as what it should be, or empty.
    @property
    def meta(self) -> dict[str, Any]:
        return _object(self.data.get("meta"))

    @property
    def article(self) -> dict[str, Any]:
        return _object(self.meta.get("article"))

    @property
    def request(self) -> dict[str, Any]:
        return _object(self.data.get("request"))

    @property
    def request_body(self) -> Any:
        return self.request.get("body")

    @property
    def response(self) -> dict[str, Any]:
        return _object(self.data.get("response"))


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def read_fixture(path: Path) -> Fixture:
    """One fixture file; a truncated or malformed one is a `ConfigError` naming the file."""
    try:
        data = parse_json(Path(path).read_bytes())
    except OSError as exc:
        raise ConfigError(f"bad fixture {path}: cannot read ({exc.strerror})") from None
    except InputError as exc:  # not UTF-8, malformed, nested too deeply, a lone surrogate
        raise ConfigError(f"bad fixture {path}: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"bad fixture {path}: expected a JSON object, found {type(data).__name__}")
    return Fixture(Path(path), data)


def safe_label(text: str) -> str:
    return _UNSAFE.sub("-", text).strip("-")[:80] or "request"


class FixtureStore:
    """Key -> file index over a fixtures folder, shared by the sync and async transports."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._lock = threading.Lock()
        self._index: dict[str, Path] | None = None

    def _scan(self) -> dict[str, Path]:
        index: dict[str, Path] = {}
        if self.root.is_dir():
            for entry in sorted(self.root.iterdir()):
                match = FILE_PATTERN.match(entry.name)
                if match and entry.is_file():
                    index[match.group("key")] = entry
        return index

    def path_of(self, key: str) -> Path | None:
        with self._lock:
            if self._index is None:
                self._index = self._scan()
            path = self._index.get(key)
            if path is None or not path.exists():
                # Another process may have recorded since the last scan.
                self._index = self._scan()
                path = self._index.get(key)
            return path

    def get(self, key: str) -> Fixture | None:
        path = self.path_of(key)
        if path is None:
            return None
        return read_fixture(path)

    def put(self, record: dict[str, Any], *, label: str) -> Path:
        key = record["key"]
        self.root.mkdir(parents=True, exist_ok=True)
        # Re-recording a key rewrites its existing file instead of leaving a twin under a new label.
        path = self.path_of(key) or self.root / f"{safe_label(label)}.{key}.json"
        write_json_atomically(path, record)
        with self._lock:
            if self._index is not None:
                self._index[key] = path
        return path

    def __iter__(self) -> Iterator[Fixture]:
        with self._lock:
            self._index = self._scan()
            paths = list(self._index.values())
        for path in paths:
            yield read_fixture(path)

    def for_article(self, article_sha256: str) -> list[Fixture]:
        return [f for f in self if f.article.get("sha256") == article_sha256]


_stores: dict[Path, FixtureStore] = {}
_stores_lock = threading.Lock()


def store_for(root: Path) -> FixtureStore:
    """One store per folder in a process, so sync and async clients see each other's writes."""
    resolved = Path(root).resolve()
    with _stores_lock:
        if resolved not in _stores:
            _stores[resolved] = FixtureStore(resolved)
        return _stores[resolved]
