"""The end-of-job summary: counts, failures by reason, tokens, estimated cost, latency.

One cost figure, priced by where each request ran: tokens a Batch API batch answered at the
batch price (`batch_input`/`batch_output`), every other token at the live price. Prices come
from `prices.json` (USD per million tokens, editable); a model it does not list (or a batch
price it lacks) gets no cost at all rather than a guess.
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
    planned: int = 0  # articles in the job; those neither done nor failed were not run (stopped early)
    done: int = 0
    failed: int = 0
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

    @property
    def total(self) -> int:
        return max(self.planned, self.done + self.failed)

    @property
    def not_run(self) -> int:
        return self.total - self.done - self.failed

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
        else:
            self.failed += 1
            self.failures[str(outcome.cause or Cause.INTERNAL_ERROR)] += 1
        self.reused += outcome.reused and not outcome.resumed
        self.resumed += outcome.resumed
        if outcome.reused:
            return
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

    def as_dict(self) -> dict[str, Any]:
        cost = self.cost
        return {
            "model": self.model,
            "articles": {
                "total": self.total,
                "done": self.done,
                "failed": self.failed,
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
    table.add_row("articles", f"{articles['total']}: {articles['done']} done, {articles['failed']} failed{not_run}")
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
    latency = data["latency_ms"]
    if latency["p50"] is not None:
        table.add_row("latency p50 / p95", f"{latency['p50']:.0f} ms / {latency['p95']:.0f} ms")
    table.add_row("wall time", f"{data['wall_seconds']:.1f} s")
    return table
