"""Shutdown steps are bounded: a step that does not finish is named in the log, and stopping goes on."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
import threading
import time

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


def _app(tmp_path):
    from extractor.service import create_app
    from extractor.service.settings import ServiceSettings
    from extractor.settings import Settings

    settings = Settings(provider="rules", _env_file=None)
    return create_app(settings, ServiceSettings(api_keys=[], state_dir=tmp_path / "state", _env_file=None))


async def test_the_runner_stops_when_woken_as_it_is_told_to(tmp_path, caplog):
    app = _app(tmp_path)
    async with app.router.lifespan_context(app):
        runner = app.state.service_state.runner
        await asyncio.sleep(0.2)  # the loop found nothing to claim and waits to be woken
        with caplog.at_level(logging.INFO, logger="extractor.service"):
            runner.wake()  # an outcome recorded just now, say
            await runner.stop(patience=30)
        assert runner._task.done()
        assert "shutdown_step_slow" not in caplog.text


async def test_the_runner_loop_honours_a_cancellation_that_meets_a_wake_up(tmp_path):
    """Python 3.11's `asyncio.wait_for` returns, dropping the cancellation, when the awaited event
    is set in the same turn as the cancel arrives: the runner's loop went on, and `extractor
    serve` hung at "Waiting for application shutdown" (seen under load in the suite)."""
    app = _app(tmp_path)
    async with app.router.lifespan_context(app):
        runner = app.state.service_state.runner
        await asyncio.sleep(0.2)
        loop_task = runner._task
        runner.wake()
        loop_task.cancel()
        await asyncio.wait({loop_task}, timeout=30)
        assert loop_task.cancelled()


async def test_articles_claimed_while_stopping_go_back_to_the_queue(tmp_path):
    """`stop` used to cancel the loop in the middle of a claim: the claim went through in its
    thread, and its articles stayed `running` for no one until their lease ran out."""
    from sqlalchemy import select

    from extractor.service.db import NewArticle, NewJob
    from extractor.service.db.schema import articles

    app = _app(tmp_path)
    async with app.router.lifespan_context(app):
        state = app.state.service_state
        runner, db = state.runner, state.db
        await asyncio.sleep(0.2)
        claim = db.claim

        claimed = threading.Event()

        def claim_as_stop_begins(*args, **kwargs):
            while not runner._stopping:  # the claim is under way when the service is told to stop
                time.sleep(0.01)
            try:
                return claim(*args, **kwargs)
            finally:
                claimed.set()

        db.claim = claim_as_stop_begins
        now = time.time()
        records = [NewArticle(i, f"a{i}", json.dumps({"id": f"a{i}", "text": f"Exercise {i}."})) for i in range(3)]
        db.create_job(NewJob("job_stopping", "local", None, now, now + 3600, records))
        runner.wake()
        await asyncio.sleep(0.2)  # the loop is in its claim now, waiting for the stop
        await runner.stop(patience=30)
        assert await asyncio.to_thread(claimed.wait, 60)
        with db.engine.connect() as connection:
            statuses = {row.status for row in connection.execute(select(articles.c.status))}
    assert "running" not in statuses
