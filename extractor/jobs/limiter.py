"""Client-side rate limits: requests per minute and tokens per minute, as aiolimiter leaky buckets.

A bucket holds one window's allowance (a minute by default: what providers measure), so a
job may start with a burst of that size and then runs at the rate. Tokens are charged up
front from an estimate; when an article used more (re-asks, retries, a long answer), the
worker that spent it pays the difference before it takes its next article, so the long-run
rate holds. A leaky bucket cannot give back, so an overestimate only makes the job slower.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiolimiter import AsyncLimiter

# Prompt overhead (system prompt and JSON schema) and a typical answer, in tokens.
PROMPT_OVERHEAD_TOKENS = 1200
ANSWER_ESTIMATE_TOKENS = 400
CHARS_PER_TOKEN = 4
WINDOW_SECONDS = 60.0


class RateLimit:
    """`per_minute` units a minute, at most one window's worth in a burst."""

    def __init__(self, per_minute: float, *, window: float = WINDOW_SECONDS) -> None:
        if per_minute <= 0 or window <= 0:
            raise ValueError("a rate limit must be positive")
        self.per_minute = per_minute
        capacity = per_minute * window / 60.0
        if capacity < 1:  # below one unit a window: one unit every 60/per_minute seconds
            capacity, window = 1.0, 60.0 / per_minute
        self.bucket = AsyncLimiter(capacity, window)

    async def acquire(self, amount: float) -> None:
        """Wait until `amount` fits; an amount above one window's capacity is taken in parts."""
        capacity = self.bucket.max_rate
        while amount > 0:
            part = min(amount, capacity)
            await self.bucket.acquire(part)
            amount -= part


def split_limit(limit: float | None, parts: int) -> float | None:
    """One part's share of a limit split evenly (a Ray actor's, a service replica's)."""
    return None if limit is None else limit / parts


@dataclass
class Reservation:
    requests: int
    tokens: int


class JobLimiter:
    """Both limits of a job; either may be off (None). `window` is the burst allowance, in seconds.

    `charged_requests` and `charged_tokens` add up what was charged so far (reservations and
    settlements): once every article is settled, the requests it charged are the requests sent.
    """

    def __init__(self, rpm: float | None = None, tpm: float | None = None, *, window: float = WINDOW_SECONDS) -> None:
        self.requests = RateLimit(rpm, window=window) if rpm else None
        self.tokens = RateLimit(tpm, window=window) if tpm else None
        self.charged_requests = 0
        self.charged_tokens = 0

    @staticmethod
    def estimate_tokens(text: str) -> int:
        return len(text) // CHARS_PER_TOKEN + PROMPT_OVERHEAD_TOKENS + ANSWER_ESTIMATE_TOKENS

    async def reserve(self, text: str) -> Reservation:
        reservation = Reservation(requests=1, tokens=self.estimate_tokens(text))
        self.charged_requests += reservation.requests
        self.charged_tokens += reservation.tokens
        if self.requests is not None:
            await self.requests.acquire(reservation.requests)
        if self.tokens is not None:
            await self.tokens.acquire(reservation.tokens)
        return reservation

    async def settle(self, reservation: Reservation, *, requests: int, tokens: int | None) -> None:
        """Charge what the article used beyond its reservation (re-asks and retries included)."""
        extra_requests = max(0, requests - reservation.requests)
        extra_tokens = max(0, tokens - reservation.tokens) if tokens is not None else 0
        self.charged_requests += extra_requests
        self.charged_tokens += extra_tokens
        if self.requests is not None and extra_requests:
            await self.requests.acquire(extra_requests)
        if self.tokens is not None and extra_tokens:
            await self.tokens.acquire(extra_tokens)
