"""Shutdown steps are bounded: a step that does not finish is named in the log, and stopping goes on."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys

import pytest

pytest.importorskip("fastapi", reason="needs the service extra")

from extractor.service.stopping import OVERRAN, within


async def test_a_step_that_ignores_cancellation_is_named_and_left(caplog):
    release = asyncio.Event()

    async def stubborn() -> None:
        while not release.is_set():
            try:
                await release.wait()
            except asyncio.CancelledError:
                continue  # a task that swallows its cancellation: `gather` would wait for ever

    task = asyncio.get_running_loop().create_task(stubborn(), name="article-7")
    await asyncio.sleep(0)  # it runs up to its wait
    task.cancel()
    with caplog.at_level(logging.INFO, logger="extractor.service"):
        assert await within("stopping 1 articles", [task], patience=0.2) is False
    events = [json.loads(record.getMessage()) for record in caplog.records if record.getMessage().startswith("{")]
    slow = [event for event in events if event["event"] == "shutdown_step_slow"]
    assert len(slow) == 1 and slow[0]["step"] == "stopping 1 articles"
    assert slow[0]["waiting"][0].startswith("article-7 at ") and "stubborn" in slow[0]["waiting"][0]
    release.set()
    await task


async def test_steps_that_finish_or_fail_say_so(caplog):
    async def fails() -> None:
        raise OSError("connection reset")

    with caplog.at_level(logging.INFO, logger="extractor.service"):
        assert await within("closing the model client", [asyncio.sleep(0), fails()]) is True
        assert await within("nothing", []) is True
    events = [json.loads(record.getMessage()) for record in caplog.records if record.getMessage().startswith("{")]
    assert events == [
        {"event": "shutdown_step_failed", "step": "closing the model client", "error": "OSError: connection reset"}
    ]


def test_the_watchdog_ends_a_process_whose_shutdown_hangs(tmp_path):
    """The last resort: a shutdown blocked for good (here the main thread never returns) ends with
    every thread's stack on stderr, and a status that says so."""
    script = (
        "import threading\n"
        "from extractor.service.stopping import watchdog\n"
        "watchdog(0.5)\n"
        "def blocked_in_shutdown():\n"
        "    threading.Event().wait()\n"
        "blocked_in_shutdown()\n"
    )
    ended = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert ended.returncode == OVERRAN
    assert ended.stderr.startswith('{"event": "shutdown_overran", "seconds": 0.5}\n')
    assert "blocked_in_shutdown" in ended.stderr  # where it hung, for the log reader
