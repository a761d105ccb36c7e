"""The speed-ups that lean on private names of instructor and openai degrade, never break.

Each test takes one private name away (as a new instructor or openai release might), then
extracts twice against a real local server: the extractions still work, over the public
path, and `InternalsFallbackWarning` is raised exactly once.
"""

from __future__ import annotations

import sys
import types
import warnings

import openai._base_client
import openai._vendor.httpx_aiohttp.transport
import pytest

from extractor import Extractor, InternalsFallbackWarning
from extractor.model_call import fallback
from extractor.testing.scripted_server import Reply, ScriptedServer, tool_call_completion
from tests.support.answers import SEED_TEXT, VALID


@pytest.fixture(autouse=True)
def nothing_warned_yet(monkeypatch: pytest.MonkeyPatch) -> None:
    # openai and instructor import some of their own modules on first use, from the names
    # the tests take away: one extraction each way first, as a consistent release would have.
    extract_twice(is_async=False)
    extract_twice(is_async=True)
    monkeypatch.setattr(fallback, "_warned", set())


def fallback_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, InternalsFallbackWarning)]


def settings(server: ScriptedServer) -> dict[str, object]:
    return {"provider": "openai", "base_url": server.base_url, "api_key": "sk-test", "fixtures_mode": "off"}


def extract_twice(*, is_async: bool) -> tuple[list[str], list[warnings.WarningMessage], int]:
    """Two extractors, one extraction each: (aircraft designations, warnings, requests served)."""
    import asyncio

    designations: list[str] = []
    with ScriptedServer([Reply(body=tool_call_completion(VALID))]) as server:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")  # "once" must come from the extractor, not the registry
            for _ in range(2):
                if is_async:

                    async def run() -> list[str]:
                        async with Extractor(**settings(server)) as extractor:  # type: ignore[arg-type]
                            result = await extractor.aextract(SEED_TEXT)
                        return [a.designation for a in result.aircraft]

                    designations += asyncio.run(run())
                else:
                    with Extractor(**settings(server)) as extractor:  # type: ignore[arg-type]
                        designations += [a.designation for a in extractor.extract(SEED_TEXT).aircraft]
    return designations, caught, len(server.seen)


def without_instructors_call_site(monkeypatch: pytest.MonkeyPatch) -> None:
    # instructor's patch module, as a release that no longer binds the check under that name.
    monkeypatch.setitem(sys.modules, "instructor.v2.core.patch", types.ModuleType("instructor.v2.core.patch"))


def without_make_request_options(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(openai._base_client, "make_request_options")


def without_sdk_aiohttp_transport(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(openai._vendor.httpx_aiohttp.transport, "AiohttpTransport")


# (take the name away, extract async?, what the warning names)
FALLBACKS = {
    "instructor-patch": (
        without_instructors_call_site,
        False,
        ("cached async-validator check", "instructor.v2.core.patch.reject_async_validators"),
    ),
    "chat-call": (without_make_request_options, False, ("direct chat-completions call", "make_request_options")),
    "async-chat-call": (without_make_request_options, True, ("direct chat-completions call", "make_request_options")),
    "aiohttp-transport": (without_sdk_aiohttp_transport, True, ("aiohttp transport", "AiohttpTransport")),
}


@pytest.mark.parametrize("case", list(FALLBACKS))
def test_a_moved_private_name_falls_back_with_one_warning(monkeypatch, case):
    take_away, is_async, named = FALLBACKS[case]
    take_away(monkeypatch)
    designations, caught, served = extract_twice(is_async=is_async)
    assert designations == ["B-52", "B-52"] and served == 2
    [message] = fallback_warnings(caught)
    assert all(name in message for name in named), message


def test_with_every_private_name_in_place_nothing_is_said():
    designations, caught, _ = extract_twice(is_async=True)
    assert designations == ["B-52", "B-52"]
    assert fallback_warnings(caught) == []
