"""`batch --triage`: what the summary table, `--json-summary` and the progress bar say of skipped articles."""

from __future__ import annotations

import pytest
from rich.console import Console

from extractor.cli.progress import BatchProgress
from extractor.jobs.outcome import SKIP_REASON, Origin, Outcome, Status
from extractor.jobs.summary import Summary, render
from extractor.schemas import Usage


def done(key: str, prompt: int, completion: int, **fields) -> Outcome:
    usage = Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion)
    return Outcome(key=key, status=Status.DONE, attempts=1, usage=usage, **fields)


def skipped(key: str) -> Outcome:
    return Outcome(key=key, status=Status.SKIPPED, origin=Origin.TRIAGED, message=SKIP_REASON)


def test_the_saving_is_the_mean_of_the_extracted_articles_times_the_skipped_ones():
    summary = Summary(model="gpt-4o", triage=True)
    for outcome in (done("a", 1000, 100), done("b", 3000, 300), skipped("c"), skipped("d"), skipped("e")):
        summary.add(outcome)
    # A copied result costs nothing and is no measure of what an article costs.
    summary.add(done("f", 0, 0, reused_from="a", origin=Origin.REUSED))
    assert (summary.done, summary.skipped, summary.total, summary.not_run) == (3, 3, 6, 0)
    assert summary.saved_usage == Usage(prompt_tokens=6000, completion_tokens=600, total_tokens=6600)
    assert summary.saved_cost == pytest.approx((6000 * 2.50 + 600 * 10.00) / 1e6)
    assert summary.latencies == []  # skipped articles have no latency to count


def test_with_the_batch_api_the_saving_is_priced_at_the_batch_price():
    summary = Summary(model="gpt-4o", triage=True)
    summary.add(done("a", 1000, 100))
    summary.add(skipped("b"))
    summary.count_batch(Usage(prompt_tokens=1000, completion_tokens=100, total_tokens=1100))
    assert summary.saved_cost == pytest.approx((1000 * 1.25 + 100 * 5.00) / 1e6)


def test_nothing_extracted_yet_gives_no_estimate_rather_than_a_guess():
    summary = Summary(model="gpt-4o", triage=True)
    summary.add(skipped("a"))
    data = summary.as_dict()["triage"]
    assert data == {
        "enabled": True,
        "skipped": 1,
        "estimated_tokens_saved": None,
        "estimated_cost_saved_usd": None,
        "estimated_from": None,
    }


def test_the_summary_table_says_what_was_skipped_and_saved():
    summary = Summary(model="gpt-4o", triage=True)
    for outcome in (done("a", 1000, 100), skipped("b")):
        summary.add(outcome)
    console = Console(record=True, width=200)
    console.print(render(summary))
    text = console.export_text()
    assert "2: 1 done, 0 failed, 1 skipped (triage)" in text
    assert "1 skipped, no model call; about 1,100 tokens ($0.0035) saved, at the mean of 1 extracted articles" in text


def test_the_progress_bar_counts_skipped_articles_apart_from_failed_ones():
    progress = BatchProgress(3, enabled=True)
    failed = Outcome(key="c", status=Status.FAILED, attempts=1, message="boom")
    for outcome in (done("a", 10, 5), skipped("b"), failed):
        progress.advance(outcome)
    counts = progress._progress.columns[2].render(progress._progress.tasks[0])
    assert counts.plain == "1 done, 1 failed, 1 skipped / 3"
