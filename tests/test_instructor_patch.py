"""The cached async-validator check: instructor walks our response model once, not per call.

These tests exercise instructor's real call path, so an instructor upgrade that moves or
renames the check (or calls it some other way) fails here instead of silently costing
~6 ms of CPU an article again.
"""

from __future__ import annotations

import cProfile
import logging
import pstats

import pytest
from pydantic import BaseModel

from extractor import Extractor
from extractor.model_call import instructor_patch
from extractor.testing.faultserver import FaultServer
from tests.support.paths import CORPUS

TEXT = (CORPUS / "voa_stories.jsonl").read_text(encoding="utf-8").splitlines()[0]

logging.getLogger("instructor").disabled = True


def walks_of_instructors_check(profile: cProfile.Profile) -> int:
    """How many times instructor's own `reject_async_validators` ran, whoever called it."""
    code = instructor_patch._walk.__code__
    for (filename, line, name), (calls, *_rest) in pstats.Stats(profile).stats.items():
        if (filename, line, name) == (code.co_filename, code.co_firstlineno, code.co_name):
            return calls
    return 0


def test_instructor_walks_the_draft_model_once_across_calls():
    instructor_patch._passed.clear()
    with FaultServer() as server:
        extractor = Extractor(provider="openai", base_url=server.base_url, api_key="sk-test", fixtures_mode="off")
        profile = cProfile.Profile()
        profile.enable()
        for number in range(3):
            extractor.extract(TEXT, article_id=f"a{number}")
        profile.disable()
    # Three calls, one walk: the patch sits where instructor looks the check up. Zero would
    # mean instructor no longer checks through that name (update the patch); three, that it
    # calls the check some way the patch does not reach.
    assert walks_of_instructors_check(profile) == 1


def test_a_model_with_async_validators_is_still_refused_every_time():
    from instructor.v2.validation.async_validators import async_field_validator

    class WithAsyncValidator(BaseModel):
        name: str

        @async_field_validator("name")
        async def check_name(cls, value: str) -> str:
            return value

    instructor_patch.apply()
    for _ in range(2):
        with pytest.raises(ValueError, match="async validators are not supported"):
            instructor_patch.cached_reject_async_validators(WithAsyncValidator)
    assert WithAsyncValidator not in instructor_patch._passed


def test_apply_is_idempotent_and_replaces_every_call_site():
    instructor_patch.apply()
    instructor_patch.apply()
    for module in instructor_patch._call_sites():
        assert module.reject_async_validators is instructor_patch.cached_reject_async_validators
