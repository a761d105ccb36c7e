"""What each named error exits with: the one table from error class to exit code.

0 all done; 1 any other named error; 2 bad input or usage; 3 configuration, credentials refused,
or a store or output in use by another run; 4 extraction failed (one article, `--fail-fast`, or
some articles of a batch); 130 Ctrl-C (`run_guarded`).
"""

from __future__ import annotations

from ..errors import (
    BatchAborted,
    BatchHadFailures,
    ConfigError,
    ExtractionFailed,
    ExtractorError,
    InputError,
    StoreBusy,
)

INTERRUPTED = 130

# The most specific class first: StoreBusy is a ConfigError too.
EXIT_CODES: tuple[tuple[type[ExtractorError], int], ...] = (
    (InputError, 2),
    (StoreBusy, 3),
    (ConfigError, 3),
    (ExtractionFailed, 4),
    (BatchAborted, 4),
    (BatchHadFailures, 4),
)


def exit_code(error: ExtractorError) -> int:
    """The exit code of a command that stopped on `error`."""
    for kind, code in EXIT_CODES:
        if isinstance(error, kind):
            return code
    return 1
