"""The pytest plugin, run in inner pytest sessions (pytester)."""

from __future__ import annotations

import pytest

INNER = """
import os, socket, pytest

def test_mode_and_network():
    mode = os.environ.get("EXTRACTOR_FIXTURES_MODE")
    print("MODE", mode)
    try:
        socket.create_connection(("192.0.2.1", 9), timeout=0.2)
    except OSError as exc:
        print("NET", "blocked" if "extractor_fixtures" in str(exc) else "open")
    else:
        print("NET", "open")

def test_loopback_stays_open():
    server = socket.socket(); server.bind(("127.0.0.1", 0)); server.listen()
    client = socket.create_connection(server.getsockname(), timeout=1)
    client.close(); server.close()
"""


@pytest.fixture
def inner(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.delenv("EXTRACTOR_FIXTURES_MODE", raising=False)
    monkeypatch.delenv("EXTRACTOR_RECORD", raising=False)
    pytester.makepyfile(test_inner=INNER)
    return pytester


def run(inner: pytest.Pytester, *args: str) -> str:
    result = inner.runpytest_subprocess("-s", "-q", *args)
    result.assert_outcomes(passed=2)
    return result.stdout.str()


def test_default_is_replay_with_network_blocked(inner):
    out = run(inner)
    assert "MODE replay" in out and "NET blocked" in out


def test_record_missing_option_opens_the_network(inner):
    out = run(inner, "--record-missing")
    assert "MODE record-missing" in out and "NET blocked" not in out


def test_extractor_record_env_switches_to_record_missing(inner, monkeypatch):
    monkeypatch.setenv("EXTRACTOR_RECORD", "1")
    assert "MODE record-missing" in run(inner)


def test_unrelated_projects_can_switch_it_off(inner):
    inner.makeini("[pytest]\nextractor_fixtures = off\n")
    out = run(inner)
    assert "MODE None" in out and "NET blocked" not in out
