"""The pytest plugin, run in inner pytest sessions (pytester) of throwaway projects.

Installed through an entry point, it is loaded in every project's test session; it must act
only where the project opted in (ini option or command-line flag).
"""

from __future__ import annotations

import pytest

INNER = """
import os, socket, pytest

def test_mode_and_network():
    print("MODE", os.environ.get("EXTRACTOR_FIXTURES_MODE"))
    print("CONNECT", "patched" if type(socket.socket.connect).__name__ == "function" else "original")
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

OPTED_IN_INI = "[pytest]\nextractor_fixtures = replay\n"
UNTOUCHED = ("MODE None", "CONNECT original", "NET open")
REPLAYING = ("MODE replay", "CONNECT patched", "NET blocked")


@pytest.fixture
def inner(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    # The outer session (this project opted in) set the mode; the inner projects start clean.
    monkeypatch.delenv("EXTRACTOR_FIXTURES_MODE", raising=False)
    monkeypatch.delenv("EXTRACTOR_RECORD", raising=False)
    pytester.makepyfile(test_inner=INNER)
    return pytester


def run(inner: pytest.Pytester, *args: str) -> str:
    # Not -q: the report header, where the plugin says what it did, is part of the output.
    result = inner.runpytest_subprocess("-s", *args)
    result.assert_outcomes(passed=2)
    return result.stdout.str()


def shows(out: str, expected: tuple[str, ...]) -> bool:
    return all(line in out for line in expected)


def test_a_project_that_did_not_opt_in_is_left_alone(inner):
    out = run(inner)
    assert shows(out, UNTOUCHED)
    assert "extractor fixtures:" not in out


def test_extractor_record_env_alone_does_not_enable_it(inner, monkeypatch):
    monkeypatch.setenv("EXTRACTOR_RECORD", "1")
    assert shows(run(inner), UNTOUCHED)


def test_a_mode_set_in_a_project_that_did_not_opt_in_is_kept(inner, monkeypatch):
    monkeypatch.setenv("EXTRACTOR_FIXTURES_MODE", "record")
    out = run(inner)
    assert "MODE record" in out and "CONNECT original" in out


def test_ini_option_opts_in_to_replay_with_network_blocked(inner):
    inner.makeini(OPTED_IN_INI)
    out = run(inner)
    assert shows(out, REPLAYING)
    assert "extractor fixtures: replay, network blocked" in out


def test_pyproject_option_opts_in(inner):
    inner.makepyprojecttoml('[tool.pytest.ini_options]\nextractor_fixtures = "replay"\n')
    assert shows(run(inner), REPLAYING)


def test_command_line_flag_opts_in(inner):
    assert shows(run(inner, "--extractor-replay"), REPLAYING)


def test_record_missing_option_opens_the_network(inner):
    inner.makeini(OPTED_IN_INI)
    out = run(inner, "--record-missing")
    assert "MODE record-missing" in out and "NET open" in out and "CONNECT original" in out


def test_record_missing_option_is_an_opt_in_by_itself(inner):
    assert "MODE record-missing" in run(inner, "--record-missing")


def test_extractor_record_env_switches_an_opted_in_project_to_record_missing(inner, monkeypatch):
    inner.makeini(OPTED_IN_INI)
    monkeypatch.setenv("EXTRACTOR_RECORD", "1")
    out = run(inner)
    assert "MODE record-missing" in out and "NET open" in out


def test_ini_option_off_is_the_default_spelled_out(inner):
    inner.makeini("[pytest]\nextractor_fixtures = off\n")
    assert shows(run(inner), UNTOUCHED)


def test_unknown_ini_value_is_a_usage_error(inner):
    inner.makeini("[pytest]\nextractor_fixtures = yes please\n")
    result = inner.runpytest_subprocess("-q")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "extractor_fixtures = 'yes please': use replay or off" in result.stderr.str()


def test_explicit_loading_when_plugin_autoload_is_off(inner, monkeypatch):
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    assert shows(run(inner, "-p", "extractor_fixtures", "--extractor-replay"), REPLAYING)
