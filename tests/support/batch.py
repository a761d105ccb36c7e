"""Batch-job helpers shared by tests: made-up articles, fast extractor settings, the CLI command."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from extractor import Extractor
from extractor.engines import abatch
from extractor.testing.faultserver import FaultServer

PARAGRAPH = (
    "NATO allies said the drills would test how quickly forces can reinforce the region, "
    "and officials described the exercise as defensive."
)
# Distinct made-up stories: the first line is what the fault server quotes as evidence.
RECORDS = [
    {
        "title": f"Story {i}",
        "text": f"Report {i}: B-52 bombers joined exercise Steadfast {i} over the Baltic Sea.\n\n"
        + "\n\n".join([PARAGRAPH] * (1 + i % 4)),
    }
    for i in range(89)
]
ALL_FAULTS = dict(
    rate_429=0.04,
    retry_after=0.01,
    rate_500=0.04,
    rate_hang=0.03,
    rate_drop=0.04,
    rate_malformed=0.04,
    rate_invalid=0.04,
)
"""Every fault the fault server injects, each a few percent of requests."""
PATIENT_TIMEOUT = 60.0
"""The default request timeout: tests count requests at the server, and a request that timed out
while this busy process paused (a garbage collection can take a second on a loaded machine) would
be sent again and counted twice."""
SHORT_TIMEOUT = 0.5
"""For tests of hung or held-back replies (ALL_FAULTS's hangs, a create answered 0.6 s late), which
must time out at once; they assert what a retry cannot change."""
FAST_SETTINGS: dict[str, float] = dict(
    request_timeout=PATIENT_TIMEOUT, transport_retries=2, backoff_initial=0.005, backoff_max=0.02, max_reasks=1
)
"""Short backoffs and one re-ask, for extractors, Ray settings and `extractor` processes alike."""


def records(n: int) -> list[dict]:
    """n distinct articles: corpus stories, made unique past the first 89 by a suffix."""
    out = []
    for i in range(n):
        base = RECORDS[i % len(RECORDS)]
        suffix = "" if i < len(RECORDS) else f"\n\nCopy {i}."
        out.append({"id": f"a{i:04d}", "title": base["title"], "text": base["text"] + suffix})
    return out


def make_extractor(server: FaultServer, **overrides) -> Extractor:
    """An extractor for `server`: a patient request timeout, short backoffs, one re-ask."""
    settings = dict(
        provider="openai",
        base_url=server.base_url,
        api_key="sk-test",
        fixtures_mode="off",
        **FAST_SETTINGS,
    )
    settings.update(overrides)
    return Extractor(**settings)


async def collect(extractor, articles, **options):
    """Every outcome of `abatch`."""
    return [outcome async for outcome in abatch(extractor, articles, **options)]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def env_for(server: FaultServer, request_timeout: float = PATIENT_TIMEOUT) -> dict[str, str]:
    """The environment of an `extractor` process talking to `server`: short backoffs, one re-ask."""
    return {
        **os.environ,
        "OPENAI_API_KEY": "sk-test",
        "EXTRACTOR_PROVIDER": "openai",
        "EXTRACTOR_BASE_URL": server.base_url,
        "EXTRACTOR_FIXTURES_MODE": "off",
        **{f"EXTRACTOR_{name.upper()}": str(value) for name, value in FAST_SETTINGS.items()},
        "EXTRACTOR_REQUEST_TIMEOUT": str(request_timeout),
    }


def batch_command(inputs: Path, out: Path, *extra: str) -> list[str]:
    """`extractor batch INPUTS --out OUT --quiet EXTRA...` as a subprocess command line."""
    return [str(Path(sys.executable).parent / "extractor"), "batch", str(inputs), "--out", str(out), "--quiet", *extra]


def run_batch(inputs: Path, out: Path, env: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    """`extractor batch` in its own process, to the end; the exit code is the caller's to judge."""
    from tests.support.paths import ROOT

    command = batch_command(inputs, out, *extra)
    return subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)


def jsonl_ids(path: Path) -> list[str]:
    return [json.loads(line)["article"]["id"] for line in path.read_text(encoding="utf-8").splitlines()]


def store_state(db: Path) -> dict[str, str]:
    """Article key → status, read straight from a job store."""
    with sqlite3.connect(db) as connection:
        return dict(connection.execute("SELECT key, status FROM articles"))


def count_lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0
