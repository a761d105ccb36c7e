"""The end-of-job summary: counts, failures by reason, tokens, estimated cost, latency, triage.

One cost figure, priced by where each request ran: tokens a Batch API batch answered at the
batch price (`batch_input`/`batch_output`), every other token at the live price. Prices come
from `prices.json` (USD per million tokens, editable); a model it does not list (or a batch
price it lacks) gets no cost at all rather than a guess.

With triage, the articles it skipped and what they would have cost: each skipped article is
estimated at the job's measured mean tokens per extracted article (prompt and completion
apart: the done articles a model answered, in this run or earlier ones), priced like the
job's own requests. A job with no such article yet has no estimate.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from ..errors import Cause
from ..model_call.transport import CallMeter
from ..schemas import Usage
from .outcome import Origin, Outcome, Status


@lru_cache(maxsize=1)
def price_table() -> dict[str, dict[str, float]]:
    raw = json.loads(resources.files(__package__).joinpath("prices.json").read_text(encoding="utf-8"))
    return {model: prices for model, prices in raw.items() if not model.startswith("_")}


def estimated_cost(model: str, usage: Usage, *, batch: Usage | None = None) -> float | None:
    """USD for `usage`, of which `batch` was answered by the Batch API (priced as such)."""
    prices = price_table().get(model)
    batch = batch or Usage()
    if prices is None or (batch != Usage() and "batch_input" not in prices):
        return None
    live = usage - batch
    cost = live.prompt_tokens * prices["input"] + live.completion_tokens * prices["output"]
    if batch != Usage():
        cost += batch.prompt_tokens * prices["batch_input"] + batch.completion_tokens * prices["batch_output"]
    return cost / 1_000_000


def percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


@dataclass
class Summary:
    """Failed articles count with what they spent: tokens are paid for whether or not the answer was usable.

    Tokens over all runs come from the job store when there is one (`count_store`: every live
    call, recorded as it ended, those of killed runs included), else from the outcomes
    (earlier runs' results plus this run's). The Batch API engine feeds the tokens its
    batches answered (`count_batch`), so the one cost figure prices them at the batch price.
    """

    model: str
    planned: int = 0  # articles in the job; those neither done, failed nor skipped were not run (stopped early)
    done: int = 0
    failed: int = 0
    skipped: int = 0  # left out by triage: no model call
    triage: bool = False  # the job ran with triage on
    extracted: int = 0  # articles sent to the model in this run (done or failed)
    reused: int = 0  # identical texts copied instead of extracted
    resumed: int = 0  # finished by an earlier run
    attempts: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    earlier_usage: Usage = field(default_factory=Usage)  # what earlier runs spent on these articles
    run_usage: Usage = field(default_factory=Usage)  # this run only
    store_usage: Usage | None = None  # every live call of the job store, over all runs
    batch_usage: Usage = field(default_factory=Usage)  # answered by Batch API batches, over all runs
    latencies: list[float] = field(default_factory=list)
    wall_seconds: float = 0.0
    # Done articles a model answered (not copied) and their tokens: what a sent article costs here.
    measured_articles: int = 0
    measured_usage: Usage = field(default_factory=Usage)

    @property
    def total(self) -> int:
        return max(self.planned, self.done + self.failed + self.skipped)

    @property
    def not_run(self) -> int:
        return self.total - self.done - self.failed - self.skipped

    @property
    def saved_usage(self) -> Usage | None:
        """The tokens the skipped articles would have taken, at the measured mean; None without
        triage (nothing was left out to save) or before any article was measured."""
        if not self.triage or not self.measured_articles:
            return None
        mean = self.measured_usage
        prompt = round(mean.prompt_tokens * self.skipped / self.measured_articles)
        completion = round(mean.completion_tokens * self.skipped / self.measured_articles)
        return Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion)

    @property
    def saved_cost(self) -> float | None:
        """USD the skipped articles would have cost, priced like this job's requests; None without an estimate."""
        saved = self.saved_usage
        if saved is None:
            return None
        return estimated_cost(self.model, saved, batch=saved if self.batch_usage.total_tokens else None)

    @property
    def usage(self) -> Usage:
        """Every token the job paid for, earlier runs included."""
        if self.store_usage is not None:
            return self.store_usage + self.batch_usage
        return self.earlier_usage + self.run_usage

    @property
    def cost(self) -> float | None:
        """The job's estimated cost in USD, each token priced where its request ran; None without prices."""
        return estimated_cost(self.model, self.usage, batch=self.batch_usage)

    def add(self, outcome: Outcome) -> None:
        if outcome.status is Status.DONE:
            self.done += 1
        elif outcome.status is Status.SKIPPED:
            self.skipped += 1
        else:
            self.failed += 1
            self.failures[str(outcome.cause or Cause.INTERNAL_ERROR)] += 1
        self.reused += outcome.reused and not outcome.resumed
        self.resumed += outcome.resumed
        if outcome.reused or outcome.skipped:
            return
        if outcome.status is Status.DONE and outcome.attempts:
            self.measured_articles += 1
            self.measured_usage = self.measured_usage + outcome.usage
        if outcome.resumed:
            self.earlier_usage = self.earlier_usage + outcome.usage
        else:
            self.run_usage = self.run_usage + outcome.usage
            self.attempts += outcome.attempts
            self.extracted += outcome.origin is not Origin.INPUT
        if outcome.latency_ms is not None and outcome.origin is not Origin.INPUT:
            self.latencies.append(outcome.latency_ms)

    def count_calls(self, meter: CallMeter) -> None:
        """Take this run's calls and tokens from the job's meter: it also saw calls cut off when the job stopped."""
        self.attempts = meter.attempts
        self.run_usage = meter.usage

    def count_store(self, usage: Usage) -> None:
        """The job store's tokens over all runs (`StoreReader.usage`): what the summary reports as spent."""
        self.store_usage = usage

    def count_batch(self, usage: Usage) -> None:
        """Tokens the Batch API's batches answered (over all runs): priced at the batch price."""
        self.batch_usage = usage

    def triage_dict(self) -> dict[str, Any]:
        """What triage skipped and the estimate of what that saved."""
        saved, cost = self.saved_usage, self.saved_cost
        return {
            "enabled": self.triage,
            "skipped": self.skipped,
            "estimated_tokens_saved": None if saved is None else saved.model_dump(),
            "estimated_cost_saved_usd": None if cost is None else round(cost, 6),
            "estimated_from": (
                f"mean tokens of {self.measured_articles} extracted articles" if self.measured_articles else None
            ),
        }

    def as_dict(self) -> dict[str, Any]:
        cost = self.cost
        return {
            "model": self.model,
            "articles": {
                "total": self.total,
                "done": self.done,
                "failed": self.failed,
                "skipped": self.skipped,
                "not_run": self.not_run,
                "extracted_now": self.extracted,
                "reused_identical_text": self.reused,
                "resumed": self.resumed,
            },
            "failures_by_reason": dict(self.failures.most_common()),
            "model_calls": self.attempts,
            "tokens": self.usage.model_dump(),
            "tokens_this_run": self.run_usage.model_dump(),
            "batch_tokens": self.batch_usage.model_dump(),
            "estimated_cost_usd": None if cost is None else round(cost, 6),
            "triage": self.triage_dict(),
            "latency_ms": {"p50": percentile(self.latencies, 0.5), "p95": percentile(self.latencies, 0.95)},
            "wall_seconds": round(self.wall_seconds, 3),
        }


def render(summary: Summary) -> Any:
    """A rich Table of the summary, for the terminal."""
    from rich.table import Table

    data = summary.as_dict()
    table = Table(title="batch summary", show_header=False, title_justify="left")
    table.add_column("what", style="bold")
    table.add_column("value")
    articles = data["articles"]
    not_run = f", {articles['not_run']} not run (job stopped)" if articles["not_run"] else ""
    skipped = f", {articles['skipped']} skipped (triage)" if articles["skipped"] else ""
    table.add_row(
        "articles", f"{articles['total']}: {articles['done']} done, {articles['failed']} failed{skipped}{not_run}"
    )
    table.add_row(
        "this run",
        f"{articles['extracted_now']} attempted, {articles['reused_identical_text']} reused (identical text), "
        f"{articles['resumed']} from earlier runs, {data['model_calls']} model calls",
    )
    for reason, count in data["failures_by_reason"].items():
        table.add_row(f"failed: {reason}", str(count))
    tokens = data["tokens"]
    table.add_row(
        "tokens", f"{tokens['total_tokens']:,} ({tokens['prompt_tokens']:,} in, {tokens['completion_tokens']:,} out)"
    )
    cost = data["estimated_cost_usd"]
    priced = f"${cost:.4f}" if cost is not None else f"unknown (no price for {summary.model!r})"
    if summary.batch_usage.total_tokens:
        priced += f" ({summary.batch_usage.total_tokens:,} tokens answered by the Batch API, at its price)"
    table.add_row("estimated cost", priced)
    if summary.triage or summary.skipped:
        table.add_row("triage", triage_line(summary))
    latency = data["latency_ms"]
    if latency["p50"] is not None:
        table.add_row("latency p50 / p95", f"{latency['p50']:.0f} ms / {latency['p95']:.0f} ms")
    table.add_row("wall time", f"{data['wall_seconds']:.1f} s")
    return table


def triage_line(summary: Summary) -> str:
    """The triage row of the summary table: what was skipped and the estimate of what that saved."""
    line = f"{summary.skipped} skipped, no model call"
    saved = summary.saved_usage
    if not summary.skipped:
        return line
    if saved is None:
        return line + "; saved: unknown (no extracted article to measure yet)"
    cost = summary.saved_cost
    priced = f"${cost:.4f}" if cost is not None else f"no price for {summary.model!r}"
    return (
        f"{line}; about {saved.total_tokens:,} tokens ({priced}) saved, "
        f"at the mean of {summary.measured_articles} extracted articles"
    )
