"""The end-of-job summary: counts, failures by reason, tokens, estimated cost, latency.

Cost comes from `prices.json` (USD per million tokens, editable); a model it does not list
gets no cost at all rather than a guess. Each token is priced where its request ran: live
by default, or at an origin's own prices (the Batch API's `batch_input` / `batch_output`)
for the tokens an engine says that origin answered.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from ..engines.local import BatchOutcome
from ..model_call.transport import CallMeter
from ..schemas import Usage


@lru_cache(maxsize=1)
def price_table() -> dict[str, dict[str, float]]:
    raw = json.loads(resources.files(__package__).joinpath("prices.json").read_text(encoding="utf-8"))
    return {model: prices for model, prices in raw.items() if not model.startswith("_")}


LIVE = "live"
# Where a request ran -> the prefix of its prices in prices.json.
PRICE_PREFIX = {LIVE: "", "batch": "batch_"}


def estimated_cost(model: str, usage: Usage, origin: str = LIVE) -> float | None:
    """USD for `usage` answered at `origin`; None when prices.json has no such price for `model`."""
    prices = price_table().get(model)
    prefix = PRICE_PREFIX[origin]
    if prices is None or f"{prefix}input" not in prices:
        return None
    return (usage.prompt_tokens * prices[f"{prefix}input"] + usage.completion_tokens * prices[f"{prefix}output"]) / 1e6


def cost_by_origin(model: str, usages: dict[str, Usage]) -> float | None:
    """USD for tokens by where they ran; None when the model, or an origin with tokens, has no price."""
    if model not in price_table():
        return None
    total = 0.0
    for origin, usage in usages.items():
        cost = estimated_cost(model, usage, origin) if usage.prompt_tokens or usage.completion_tokens else 0.0
        if cost is None:
            return None
        total += cost
    return total


def by_origin(usage: Usage, elsewhere: dict[str, Usage]) -> dict[str, Usage]:
    """`usage` split by origin: what `elsewhere` answered, and the rest, live."""
    prompt = max(0, usage.prompt_tokens - sum(part.prompt_tokens for part in elsewhere.values()))
    completion = max(0, usage.completion_tokens - sum(part.completion_tokens for part in elsewhere.values()))
    live = Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion)
    return {LIVE: live, **elsewhere}


def percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


@dataclass
class Summary:
    """Failed articles count with what they spent: tokens are paid for whether or not the answer was usable."""

    model: str
    planned: int = 0  # articles in the job; those neither done nor failed were not run (stopped early)
    done: int = 0
    failed: int = 0
    extracted: int = 0  # articles sent to the model in this run (done or failed)
    reused: int = 0  # identical texts copied instead of extracted
    resumed: int = 0  # finished by an earlier run
    attempts: int = 0
    failures: Counter = field(default_factory=Counter)
    earlier_usage: Usage = field(default_factory=Usage)  # what earlier runs spent on these articles
    run_usage: Usage = field(default_factory=Usage)  # this run only
    latencies: list[float] = field(default_factory=list)
    wall_seconds: float = 0.0
    # Of `usage` / `run_usage`: tokens answered somewhere other than live, by origin ("batch").
    elsewhere: dict[str, Usage] = field(default_factory=dict)
    elsewhere_this_run: dict[str, Usage] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return max(self.planned, self.done + self.failed)

    @property
    def not_run(self) -> int:
        return self.total - self.done - self.failed

    @property
    def usage(self) -> Usage:
        """Every article's extraction, earlier runs included."""
        return self.earlier_usage + self.run_usage

    def add(self, outcome: BatchOutcome) -> None:
        if outcome.status == "done":
            self.done += 1
        else:
            self.failed += 1
            self.failures[outcome.cause or "unknown"] += 1
        self.reused += outcome.reused and not outcome.resumed
        self.resumed += outcome.resumed
        if outcome.reused:
            return
        if outcome.resumed:
            self.earlier_usage = self.earlier_usage + outcome.usage
        else:
            self.run_usage = self.run_usage + outcome.usage
            self.attempts += outcome.attempts
            self.extracted += outcome.cause != "input"
        if outcome.latency_ms is not None and outcome.cause != "input":
            self.latencies.append(outcome.latency_ms)

    def count_calls(self, meter: CallMeter) -> None:
        """Take this run's calls and tokens from the job's meter: it also saw calls cut off when the job stopped."""
        self.attempts = meter.attempts
        self.run_usage = meter.usage

    def answered_at(self, origin: str, *, usage: Usage, this_run: Usage) -> None:
        """Of the job's tokens, `usage` (`this_run` of this run's) were answered at `origin`'s prices."""
        self.elsewhere[origin] = usage
        self.elsewhere_this_run[origin] = this_run

    def as_dict(self) -> dict[str, Any]:
        origins = by_origin(self.usage, self.elsewhere)
        cost = cost_by_origin(self.model, origins)
        run_cost = cost_by_origin(self.model, by_origin(self.run_usage, self.elsewhere_this_run))
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
            "tokens_by_origin": {origin: usage.model_dump() for origin, usage in origins.items()},
            "estimated_cost_usd": None if cost is None else round(cost, 6),
            "estimated_cost_this_run_usd": None if run_cost is None else round(run_cost, 6),
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
    if summary.elsewhere:
        origins = data["tokens_by_origin"].items()
        table.add_row(
            "tokens by origin", ", ".join(f"{origin}: {usage['total_tokens']:,}" for origin, usage in origins)
        )
    cost = data["estimated_cost_usd"]
    table.add_row("estimated cost", f"${cost:.4f}" if cost is not None else f"unknown (no price for {summary.model!r})")
    latency = data["latency_ms"]
    if latency["p50"] is not None:
        table.add_row("latency p50 / p95", f"{latency['p50']:.0f} ms / {latency['p95']:.0f} ms")
    table.add_row("wall time", f"{data['wall_seconds']:.1f} s")
    return table
