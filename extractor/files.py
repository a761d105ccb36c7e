"""Output files: checked before any work is done, and written whole or not at all."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from .errors import InputError


def check_output_path(path: Path) -> Path:
    """Fail before any model call when the output could not be written anyway."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path}: is a directory, not an output file")
    if not path.parent.is_dir():
        raise InputError(f"{path}: output directory does not exist")
    return path


def write_atomically(path: Path, content: str) -> None:
    """Write the whole file or nothing: readers and failed runs never see half a file."""
    path = check_output_path(path)
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp makes the file private (0600); an output file gets the usual umask mode.
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(handle, 0o666 & ~umask)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(content)
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def write_json_atomically(path: Path, data: Any) -> None:
    """`write_atomically` for a JSON document, pretty-printed."""
    write_atomically(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
