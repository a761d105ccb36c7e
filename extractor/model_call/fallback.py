"""When a speed-up's private name moves: the public path, and one warning per process.

Three speed-ups lean on names instructor and openai do not promise to keep: the cached
async-validator check (`instructor_patch`), the direct chat-completions post (`chat_call`)
and the aiohttp transport the SDK vendors (`aiohttp_transport`). Each looks its names up
when it is used, not at import; when one is gone, the public path runs instead (the same
results, more CPU) and `fall_back` says so once, as an `InternalsFallbackWarning`.
"""

from __future__ import annotations

import threading
import warnings


class InternalsFallbackWarning(RuntimeWarning):
    """A speed-up is off because a private name of instructor or openai moved; the public path runs."""


_warned: set[str] = set()
_lock = threading.Lock()


def fall_back(speedup: str, missing: str) -> None:
    """Warn, once per process and speed-up, that `speedup` is off because `missing` is gone."""
    with _lock:
        if speedup in _warned:
            return
        _warned.add(speedup)
    warnings.warn(
        f"extractor: {speedup} is off ({missing} is not in the installed version); "
        "using the public path instead: same results, more CPU",
        InternalsFallbackWarning,
        stacklevel=3,
    )
