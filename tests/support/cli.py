"""Running `extractor` as a real process, and reading its one error line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.paths import ROOT


def run_cli(*args: str, cwd: Path = ROOT, **options) -> subprocess.CompletedProcess:
    """`python -m extractor.cli ARGS` with none of the caller's EXTRACTOR_/OPENAI_ settings.

    The timeout turns a command that blocks (on a FIFO, say) into a failed test, not a hung suite.
    """
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("EXTRACTOR_", "OPENAI_"))}
    return subprocess.run(
        [sys.executable, "-m", "extractor.cli", *args],
        capture_output=True,
        env=environment,
        cwd=cwd,
        timeout=60,
        **options,
    )


def one_error_line(stderr: bytes | str) -> str:
    """The only line of `stderr`, checked to be the CLI's error line (no traceback)."""
    text = stderr.decode() if isinstance(stderr, bytes) else stderr
    lines = [line for line in text.splitlines() if line.strip()]
    assert "Traceback" not in text and len(lines) == 1, text
    assert lines[0].startswith("extractor: error: ")
    return lines[0]
