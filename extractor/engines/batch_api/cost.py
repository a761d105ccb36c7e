"""Cost of a job run through the Batch API: batch tokens at the batch price, the rest at the live one.

Batch prices are `batch_input` / `batch_output` in `prices.json` (USD per million tokens);
a model without them gets no batch cost rather than a guess.
"""

from __future__ import annotations

from typing import Any

from ...jobs.summary import price_table
from ...schemas import Usage


def _price(usage: Usage, prices: dict[str, float], *, batch: bool) -> float:
    prefix = "batch_" if batch else ""
    return (usage.prompt_tokens * prices[f"{prefix}input"] + usage.completion_tokens * prices[f"{prefix}output"]) / 1e6


def batch_job_cost(model: str, *, batch: Usage, total: Usage) -> float | None:
    """USD for `total` tokens of which `batch` were answered by the Batch API."""
    prices = price_table().get(model)
    if prices is None or "batch_input" not in prices:
        return None
    live = Usage(
        prompt_tokens=max(0, total.prompt_tokens - batch.prompt_tokens),
        completion_tokens=max(0, total.completion_tokens - batch.completion_tokens),
    )
    return _price(batch, prices, batch=True) + _price(live, prices, batch=False)


def batch_tokens_report(batch: Usage) -> dict[str, Any]:
    return {"batch_tokens": batch.model_dump()}
