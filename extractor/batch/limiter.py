"""Client-side rate limits: requests per minute and tokens per minute, as token buckets.

A bucket holds at most one minute's allowance (what providers measure) and refills
continuously. Tokens are charged up front from an estimate and corrected once the real
usage is known; a debt (negative level) makes the next callers wait, so the long-run rate
holds even when estimates are off or an article needed re-asks and retries.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

# Prompt overhead (system prompt and JSON schema) and a typical answer, in tokens.
PROMPT_OVERHEAD_TOKENS = 1200
ANSWER_ESTIMATE_TOKENS = 400
CHARS_PER_TOKEN = 4


class TokenBucket:
    def __init__(self, per_minute: float) -> None:
        if per_minute <= 0:
            raise ValueError("a rate limit must be positive")
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.level = self.capacity
        self._stamp = time.monotonic()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = time.monotonic()
        self.level = min(self.capacity, self.level + (now - self._stamp) * self.rate)
        self._stamp = now

    async def acquire(self, amount: float) -> None:
        # The lock makes waiters first-come first-served. An amount above the capacity only
        # needs a full bucket; it then leaves a debt instead of waiting forever.
        async with self._lock:
            needed = min(amount, self.capacity)
            while True:
                self._refill()
                if self.level >= needed:
                    self.level -= amount
                    return
                await asyncio.sleep((needed - self.level) / self.rate)

    def settle(self, extra: float) -> None:
        """Charge (or refund, when negative) the difference between estimate and actual use."""
        self._refill()
        self.level = min(self.capacity, self.level - extra)


@dataclass
class Reservation:
    requests: int
    tokens: int


class JobLimiter:
    """Both limits of a job; either may be off (None)."""

    def __init__(self, rpm: float | None = None, tpm: float | None = None) -> None:
        self.requests = TokenBucket(rpm) if rpm else None
        self.tokens = TokenBucket(tpm) if tpm else None

    @staticmethod
    def estimate_tokens(text: str) -> int:
        return len(text) // CHARS_PER_TOKEN + PROMPT_OVERHEAD_TOKENS + ANSWER_ESTIMATE_TOKENS

    async def reserve(self, text: str) -> Reservation:
        reservation = Reservation(requests=1, tokens=self.estimate_tokens(text))
        if self.requests is not None:
            await self.requests.acquire(reservation.requests)
        if self.tokens is not None:
            await self.tokens.acquire(reservation.tokens)
        return reservation

    def settle(self, reservation: Reservation, *, requests: int, tokens: int | None) -> None:
        """Correct the reservation with what the article really used (re-asks and retries included)."""
        if self.requests is not None and requests > reservation.requests:
            self.requests.settle(requests - reservation.requests)
        if self.tokens is not None and tokens is not None:
            self.tokens.settle(tokens - reservation.tokens)
