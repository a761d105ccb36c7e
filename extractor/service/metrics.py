"""Prometheus metrics of the service, in a registry of its own (not the global one).

With several worker processes (`PROMETHEUS_MULTIPROC_DIR` set by `extractor serve`), each
writes its samples to that folder and `/metrics` adds them up, whichever process answers.
"""

from __future__ import annotations

import os

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from ..schemas import Usage

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)


class Metrics:
    """Requests, extractions, tokens, model calls, failures, queue depth and jobs."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "extractor_http_requests", "HTTP requests answered", ["route", "method", "status"], registry=r
        )
        self.requests_in_flight = Gauge(
            "extractor_http_requests_in_flight", "HTTP requests being answered", registry=r, multiprocess_mode="livesum"
        )
        self.extraction_seconds = Histogram(
            "extractor_extraction_seconds",
            "time to extract one article",
            ["source"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.tokens = Counter("extractor_tokens", "model tokens used", ["kind"], registry=r)
        self.model_calls = Counter("extractor_model_calls", "model calls made (attempts, re-asks included)", registry=r)
        self.extractions = Counter("extractor_extractions", "articles extracted", ["source", "outcome"], registry=r)
        self.failures = Counter("extractor_failures", "failed extractions by reason", ["reason"], registry=r)
        self.queue_depth = Gauge(
            "extractor_queue_depth",
            "articles waiting: pending job articles plus queued requests",
            registry=r,
            multiprocess_mode="mostrecent",
        )
        self.in_flight = Gauge(
            "extractor_extractions_in_flight", "model requests in flight now", registry=r, multiprocess_mode="livesum"
        )
        self.jobs = Gauge("extractor_jobs", "jobs by status", ["status"], registry=r, multiprocess_mode="mostrecent")
        self.abandoned = Counter(
            "extractor_abandoned_requests", "extract requests whose client left before the answer", registry=r
        )

    def observe_success(self, source: str, seconds: float, usage: Usage, attempts: int) -> None:
        self.extraction_seconds.labels(source).observe(seconds)
        self.extractions.labels(source, "done").inc()
        self.model_calls.inc(attempts)
        self.tokens.labels("prompt").inc(usage.prompt_tokens)
        self.tokens.labels("completion").inc(usage.completion_tokens)

    def observe_failure(self, source: str, seconds: float, reason: str, attempts: int) -> None:
        self.extraction_seconds.labels(source).observe(seconds)
        self.extractions.labels(source, "failed").inc()
        self.model_calls.inc(attempts)
        self.failures.labels(reason).inc()

    def render(self) -> bytes:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            every_process = CollectorRegistry()
            MultiProcessCollector(every_process)  # type: ignore[no-untyped-call]
            return generate_latest(every_process)
        return generate_latest(self.registry)
