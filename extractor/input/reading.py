"""Reading untrusted input safely: regular files only, stdin that may be closed, guarded JSON.

Every command that reads a file a user names goes through `checked_file`: a FIFO or a device
would block or never end, so it is refused before it is opened. Every JSON document or line
a user hands in goes through `parse_json`: whatever is wrong with it (not UTF-8, malformed,
nested deeper than the parser's stack, a lone UTF-16 surrogate such as `"\\ud800"` that no
UTF-8 writer can store) is an `InputError` naming the problem, never an exception that
escapes the record it came from.
"""

from __future__ import annotations

import json
import os
import re
import stat
import sys
from pathlib import Path
from typing import IO, Any

from ..errors import InputError

# A `\uD800`-`\uDFFF` escape: the only way a strictly decoded UTF-8 document yields a surrogate.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89abcdefABCDEF]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def checked_file(path: str | Path, *, hint: str = "") -> os.stat_result:
    """The file's status when it is a regular file; an `InputError` for anything else.

    Missing, a directory, a FIFO, a socket or a device: each is one clear message, and a FIFO
    or device is never opened (reading one would block or never end). `hint` is added to the
    not-a-regular-file message (say, "use - to read stdin").
    """
    try:
        info = Path(path).stat()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    if stat.S_ISDIR(info.st_mode):
        raise InputError(f"{path}: is a directory, not a file")
    if not stat.S_ISREG(info.st_mode):
        raise InputError(f"{path}: not a regular file (a FIFO, socket or device){'; ' + hint if hint else ''}")
    return info


def stdin_stream(stdin: IO[bytes] | None = None) -> IO[bytes]:
    """The binary stream to read `-` from: `stdin` when given, else the process's own.

    A process started with its stdin closed (`<&-`) has no `sys.stdin`: that is an
    `InputError`, not an AttributeError.
    """
    if stdin is not None:
        return stdin
    stream: IO[bytes] | None = getattr(sys.stdin, "buffer", None)
    if stream is None:
        raise InputError("<stdin>: stdin is closed; give an input file or pipe one in")
    return stream


def parse_json(data: bytes | str, *, check_text: bool = True) -> Any:
    """A JSON document (a file or one JSONL line) as Python values; what is wrong is an `InputError`.

    The message says what is wrong without saying where: callers prefix the file and line.
    `check_text=False` leaves lone surrogates to the caller (`check_unicode`), for a document
    whose parts fail one by one.
    """
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"not valid UTF-8 (byte {exc.start})") from None
        may_hold_surrogates = _SURROGATE_ESCAPE.search(data) is not None
    else:
        text = data
        may_hold_surrogates = "\\u" in text or _SURROGATE.search(text) is not None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        at = f"line {exc.lineno}, column {exc.colno}" if "\n" in text.strip() else f"column {exc.colno}"
        raise InputError(f"malformed JSON ({at}: {exc.msg})") from None
    except RecursionError:
        raise InputError("malformed JSON (nested too deeply)") from None
    if check_text and may_hold_surrogates:
        check_unicode(value)
    return value


def check_unicode(value: Any) -> None:
    """Refuse a lone surrogate anywhere in `value` (keys and strings): it cannot be written as UTF-8."""
    # Walked with a stack, not recursion: the value may be as deep as the parser allowed.
    pending: list[tuple[str, Any]] = [("", value)]
    while pending:
        where, item = pending.pop()
        if isinstance(item, str):
            problem = lone_surrogate(item)
            if problem is not None:
                raise InputError(f"{where or 'value'}: {problem}")
        elif isinstance(item, dict):
            for key, child in item.items():
                name = f"{where}.{key}" if where else str(key)
                pending.extend([(f"{where + ': ' if where else ''}key {key!r}", key), (name, child)])
        elif isinstance(item, list):
            pending.extend((f"{where}.{index}" if where else str(index), child) for index, child in enumerate(item))


def lone_surrogate(text: str) -> str | None:
    """Why `text` is not valid Unicode (a lone surrogate, where), or None when it is."""
    found = _SURROGATE.search(text)
    if found is None:
        return None
    return f"lone surrogate U+{ord(found.group()):04X} at character {found.start()} (not valid Unicode text)"
