"""Output files: checked before any work is done, and written whole or not at all.

A symlink is written through: the file it points to gets the new content and the link stays.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..errors import InputError


def _target(path: Path) -> Path:
    """Where writing `path` really lands: symlinks followed, even to a file not yet there."""
    return Path(os.path.realpath(path))


def check_output_path(path: Path) -> Path:
    """Fail before any model call when the output could not be written anyway.

    The target must be a regular file or absent, in an existing folder we may create files
    in. Returns the path to write (the symlink's target when `path` is a symlink).
    """
    path = Path(path)
    target = _target(path)
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise InputError(f"{path}: cannot use as output ({exc.strerror})") from None
    if mode is not None and stat.S_ISDIR(mode):
        raise InputError(f"{path}: is a directory, not an output file")
    if mode is not None and not stat.S_ISREG(mode):
        raise InputError(f"{path}: not a regular file (a FIFO, socket or device cannot be an output)")
    folder = target.parent
    if not folder.is_dir():
        raise InputError(f"{path}: output directory {folder} does not exist")
    _probe_writable(path, folder)
    return target


def _probe_writable(path: Path, folder: Path) -> None:
    # Try it: permission bits say nothing for root, read-only mounts or ACLs.
    try:
        with tempfile.TemporaryFile(dir=folder, prefix=".extractor-probe-"):
            pass
    except OSError as exc:
        raise InputError(f"{path}: cannot write in {folder} ({exc.strerror})") from None


def write_atomically(path: Path, content: str) -> None:
    """Write the whole file or nothing: readers and failed runs never see half a file."""
    target = check_output_path(path)
    try:
        handle, temp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise InputError(f"{path}: cannot write ({exc.strerror})") from None
    try:
        # mkstemp makes the file private (0600); an output file gets the usual umask mode.
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(handle, 0o666 & ~umask)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(content)
        # Replacing the resolved target, not `path`: os.replace onto a symlink replaces the link.
        os.replace(temp_name, target)
    except OSError as exc:
        Path(temp_name).unlink(missing_ok=True)
        raise InputError(f"{path}: cannot write ({exc.strerror})") from None
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def write_json_atomically(path: Path, data: Any) -> None:
    """`write_atomically` for a JSON document, pretty-printed."""
    write_atomically(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def check_distinct(inputs: Iterable[str | Path], outputs: dict[str, Path | None]) -> None:
    """Refuse, before any work, an output that is an input or another output (resolved paths).

    `outputs` maps how each output is named (an option: "--out") to its path. An output
    inside an input directory that would be read back as an article is an input too.
    """
    from ..input.article import SUPPORTED_SUFFIXES

    named = {label: _target(Path(path)) for label, path in outputs.items() if path is not None}
    seen: dict[Path, str] = {}
    for label, target in named.items():
        if target in seen:
            raise InputError(f"{outputs[label]}: {label} and {seen[target]} are the same file")
        seen[target] = label
    for given in inputs:
        name = str(given)
        if name == "-" or "://" in name:
            continue
        source = _target(Path(name))
        for label, target in named.items():
            if target == source:
                raise InputError(f"{outputs[label]}: {label} is also an input; it would be overwritten")
            if source.is_dir() and source in target.parents and target.suffix.lower() in SUPPORTED_SUFFIXES:
                raise InputError(f"{outputs[label]}: {label} is inside the input folder {given}; it would be read back")
