"""What one service process holds: settings, database, engine, runner, jobs, readers, probes."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from ..settings import Settings
from .db import Database, WriteBehind
from .job_service import JobService
from .jobs import Engine
from .metrics import Metrics
from .problems import ApiError
from .readiness import ModelServerProbe, database_problem, state_writable
from .reading import Followers, Reader
from .runner import JobRunner
from .settings import ServiceSettings


@dataclass
class ServiceState:
    settings: Settings
    service: ServiceSettings
    metrics: Metrics
    db: Database
    engine: Engine
    writer: WriteBehind
    runner: JobRunner
    jobs: JobService
    followers: Followers
    reader: Reader
    probe: ModelServerProbe

    @property
    def max_text(self) -> int:
        """The longest text a request takes, in characters: the service's limit, and never more
        than always fits the extractor's byte limit (4 bytes a character at most)."""
        return min(self.service.max_text_chars, self.settings.max_input_bytes // 4)

    def check_text(self, text: str) -> None:
        if len(text) > self.max_text:
            detail = f"text: at most {self.max_text} characters"
            error = {"loc": ["body", "text"], "msg": detail, "type": "string_too_long"}
            raise ApiError(422, "invalid_input", detail, errors=[error])

    async def problems(self) -> list[str]:
        """Why this process cannot do its work now (empty: ready)."""
        found = [
            self.engine.ready(),
            await self.probe.problem(),
            await asyncio.to_thread(database_problem, self.db),
            await asyncio.to_thread(state_writable, self.service.state_dir),
        ]
        return [problem for problem in found if problem]

    async def render_metrics(self) -> bytes:
        registry = self.metrics
        by_status, queued = await asyncio.to_thread(lambda: (self.db.count_by_status(), self.db.queued_articles()))
        registry.queue_depth.set(queued + self.engine.gate.waiting_requests)
        from .db import JOB_STATUSES

        for status in JOB_STATUSES:
            registry.jobs.labels(status).set(by_status.get(status, 0))
        return registry.render()
