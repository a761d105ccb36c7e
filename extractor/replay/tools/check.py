"""`fixtures check` and `fixtures prune`: re-validate stored answers and find stale fixtures.

A stored exchange is a problem when it is not a model answer (a 401, 404 or any non-2xx:
replaying it would repeat a refusal forever), when its answer no longer fits the schema, or
when its evidence quotes are not in the article the request carried.

A fixture is stale when the current code would never send its request again: its prompt
version, system prompt or answer schema differs from what the current templates and
`schemas.ExtractionDraft` produce (for the fixture's instructor mode, plain or strict).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from ...errors import ConfigError
from ..answer_check import answer_text, asked_answers, broken, validation_error
from ..keys import RequestFacts, request_is_strict, sha256_hex
from ..store import Fixture, FixtureStore, read_fixture

# instructor modes as they show in a request body -> the settings mode that produces them.
SETTINGS_MODE = {"tools": "tools", "json_schema": "json_schema", "json_object": "json"}


class CurrentRequests:
    """What the current templates and schema put in a request; schemas rendered once per mode."""

    def __init__(self) -> None:
        self._schema_hashes: dict[tuple[str, bool], str | None] = {}

    @cached_property
    def prompt_version(self) -> str:
        from ...prompting import prompt_version

        return prompt_version()

    @cached_property
    def system_sha256(self) -> str:
        from ...prompting import load_templates

        return sha256_hex(load_templates().system)

    def schema_hash(self, mode: str | None, *, strict: bool = False) -> str | None:
        """The schema hash of a request in `mode`, sent plain or as strict structured outputs."""
        if mode not in SETTINGS_MODE:
            return None
        if (mode, strict) not in self._schema_hashes:
            from .render import first_request

            body = first_request("x", mode=SETTINGS_MODE[mode], strict_schema="on" if strict else "off")
            self._schema_hashes[mode, strict] = RequestFacts.of(body).schema_hash
        return self._schema_hashes[mode, strict]


def stale_reasons(fixture: Fixture, current: CurrentRequests) -> list[str]:
    meta = fixture.meta
    reasons = []
    if meta.get("prompt_version") != current.prompt_version:
        reasons.append(f"prompt version {meta.get('prompt_version')} (now {current.prompt_version})")
    if meta.get("system_sha256") and meta["system_sha256"] != current.system_sha256:
        reasons.append("system prompt changed")
    expected = current.schema_hash(meta.get("mode"), strict=request_is_strict(fixture.request_body))
    if expected is not None and meta.get("schema_hash") != expected:
        reasons.append("answer schema changed")
    return reasons


@dataclass
class FixtureReport:
    path: Path
    origin: str
    problem: str | None = None  # the answer fails validation and was not re-asked
    reasked: bool = False  # an invalid answer the recorded chain re-asked: expected to fail
    stale: list[str] = field(default_factory=list)
    broken: bool = False  # the file cannot be replayed at all: `problem` says why (a bad fixture)

    @property
    def failed(self) -> bool:
        return self.problem is not None


def _load(store: FixtureStore) -> tuple[list[Fixture], list[FixtureReport]]:
    fixtures, unreadable = [], []
    for path in sorted(store._scan().values()):
        try:
            fixtures.append(read_fixture(path))
        except ConfigError as exc:
            reason = str(exc).removeprefix(f"bad fixture {path}: ")
            unreadable.append(FixtureReport(path, "unknown", problem=reason, broken=True))
    return fixtures, unreadable


def check_fixtures(root: Path, current: CurrentRequests | None = None) -> list[FixtureReport]:
    current = current or CurrentRequests()
    fixtures, reports = _load(FixtureStore(root))
    rejected: set[str] = set()
    for fixture in fixtures:
        rejected |= asked_answers(fixture.request_body)
    for fixture in fixtures:
        report = FixtureReport(fixture.path, fixture.origin, stale=stale_reasons(fixture, current))
        report.problem = broken(fixture)
        if report.problem is not None:
            report.broken = True
            reports.append(report)
            continue
        error = validation_error(fixture)
        if error is not None and answer_text(fixture.response.get("body")) in rejected:
            report.reasked = True
        else:
            report.problem = error
        reports.append(report)
    return sorted(reports, key=lambda r: r.path.name)


def stale_fixtures(reports: Iterable[FixtureReport]) -> list[FixtureReport]:
    return [r for r in reports if r.stale]


__all__ = ["CurrentRequests", "FixtureReport", "check_fixtures", "stale_fixtures"]
