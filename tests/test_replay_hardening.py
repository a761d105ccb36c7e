"""Record only model answers; check flags refusals and ungrounded answers; replay errors say what is wrong."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from extractor import Extractor
from extractor.cli import app
from extractor.errors import ConfigError, ExtractionFailed, ProviderUnavailable, ReplayMiss
from extractor.replay.tools.check import check_fixtures
from extractor.testing.scripted_server import Reply, ScriptedServer, tool_call_completion
from tests.support.answers import VALID

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "000_dc08afd2001463f6.txt"
SEED_TEXT = SEED.read_text(encoding="utf-8")
REFUSAL = {
    "error": {"message": "Incorrect API key provided", "type": "invalid_request_error", "code": "invalid_api_key"}
}


def _extractor(server: ScriptedServer, fixtures: Path, mode: str, **settings) -> Extractor:
    return Extractor(
        provider="openai",
        base_url=server.base_url,
        api_key="sk-test-key-000000000",
        fixtures_mode=mode,
        fixtures_dir=fixtures,
        backoff_initial=0.01,
        request_timeout=10,
        **settings,
    )


def _seed_fixture(tmp_path: Path) -> Path:
    """A copy of the committed reference fixture for the seed article."""
    source = next(
        p
        for p in (ROOT / "fixtures").glob("000_dc08afd2001463f6.*.json")
        if json.loads(p.read_text())["origin"] == "authored"
    )
    target = tmp_path / "fx"
    target.mkdir(exist_ok=True)
    return Path(shutil.copy(source, target / source.name))


def _edit(path: Path, change) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data), encoding="utf-8")


def _set_answer(data: dict, edit) -> None:
    function = data["response"]["body"]["choices"][0]["message"]["tool_calls"][0]["function"]
    answer = json.loads(function["arguments"])
    edit(answer)
    function["arguments"] = json.dumps(answer)


def test_record_stores_no_refusal_and_record_missing_asks_again_once_the_key_works(tmp_path):
    with ScriptedServer([Reply(status=401, body=REFUSAL)]) as server:
        with pytest.raises(ProviderUnavailable):
            _extractor(server, tmp_path, "record").extract(SEED_TEXT)
    assert list(tmp_path.glob("*.json")) == []
    with ScriptedServer([Reply(body=tool_call_completion(VALID))]) as server:
        result = _extractor(server, tmp_path, "record-missing").extract(SEED_TEXT)
        assert len(server.seen) == 1  # asked, not answered by a stored 401
    assert [a.designation for a in result.aircraft] == ["B-52"]
    assert len(list(tmp_path.glob("*.json"))) == 1


def test_record_stores_no_bad_request_either(tmp_path):
    with ScriptedServer([Reply(status=400, body={"error": {"message": "bad"}})]) as server:
        with pytest.raises(ExtractionFailed):
            _extractor(server, tmp_path, "record").extract(SEED_TEXT)
    assert list(tmp_path.glob("*.json")) == []


def test_check_flags_a_stored_refusal(tmp_path):
    fixture = _seed_fixture(tmp_path)

    def refuse(data: dict) -> None:
        data["response"] = {"status": 401, "headers": {}, "body": REFUSAL}

    _edit(fixture, refuse)
    [report] = check_fixtures(fixture.parent)
    assert report.failed and "HTTP 401" in report.problem
    run = CliRunner().invoke(app, ["fixtures", "check", "--fixtures", str(fixture.parent)])
    assert run.exit_code == 1 and "INVALID" in run.output


def test_check_flags_evidence_that_is_not_in_the_article(tmp_path):
    fixture = _seed_fixture(tmp_path)

    def invent(answer: dict) -> None:
        answer["aircraft"][0]["evidence"] = [{"quote": "Twelve stealth bombers circled over Pyongyang at dawn"}]

    _edit(fixture, lambda data: _set_answer(data, invent))
    [report] = check_fixtures(fixture.parent)
    assert report.failed and "evidence not in the article" in report.problem and "Pyongyang" in report.problem


def test_committed_fixtures_pass_check():
    reports = check_fixtures(ROOT / "fixtures")
    assert reports and not [r.problem for r in reports if r.failed]


def _replay_cli(fixtures: Path, *extra: str):
    return CliRunner().invoke(app, ["extract", str(SEED), "--provider", "replay", "--fixtures", str(fixtures), *extra])


@pytest.mark.parametrize(
    "damage, reason",
    [
        (lambda p: p.write_text(p.read_text()[:300]), "malformed JSON"),
        (lambda p: p.write_text("[]"), "expected a JSON object"),
        (lambda p: _edit(p, lambda d: d["response"].update(status="ok")), "not an HTTP status"),
        (lambda p: _edit(p, lambda d: d.pop("response")), "no 'response'"),
    ],
)
def test_a_broken_fixture_is_a_bad_fixture_not_an_unreachable_server(tmp_path, damage, reason):
    fixture = _seed_fixture(tmp_path)
    damage(fixture)
    run = _replay_cli(fixture.parent)
    assert run.exit_code == 3, run.output
    assert f"bad fixture {fixture}" in run.output and reason in run.output
    assert "could not reach" not in run.output and "Traceback" not in run.output


def _wrong_role(answer: dict) -> None:
    answer["aircraft"][0]["role"] = "submarine"


def test_a_stored_answer_that_fails_validation_names_its_fixture(tmp_path):
    fixture = _seed_fixture(tmp_path)
    _edit(fixture, lambda data: _set_answer(data, _wrong_role))
    with pytest.raises(ReplayMiss) as caught:
        Extractor(provider="replay", fixtures_dir=fixture.parent).extract(SEED_TEXT, article_id="seed")
    first = str(caught.value).splitlines()[0]
    assert str(fixture) in first and "aircraft.0.role" in first and "rejected" in first


def test_without_reasks_the_failed_stored_answer_names_its_fixture_on_the_error_line(tmp_path):
    fixture = _seed_fixture(tmp_path)
    _edit(fixture, lambda data: _set_answer(data, _wrong_role))
    run = _replay_cli(fixture.parent)
    assert run.exit_code == 3 and str(fixture) in run.output
    with pytest.raises(ExtractionFailed) as caught:
        Extractor(provider="replay", fixtures_dir=fixture.parent, max_reasks=0).extract(SEED_TEXT)
    assert f"stored answer: {fixture}" in str(caught.value) and "aircraft.0.role" in str(caught.value)


def test_a_fixture_folder_error_is_a_config_error(tmp_path):
    fixture = _seed_fixture(tmp_path)
    fixture.write_text("{", encoding="utf-8")
    with pytest.raises(ConfigError, match="bad fixture"):
        Extractor(provider="replay", fixtures_dir=fixture.parent).extract(SEED_TEXT)


def _body(change):
    """A damage that edits the stored response body of the seed's fixture."""
    return lambda p: _edit(p, lambda d: change(d["response"]["body"]))


def _message(change):
    return _body(lambda body: change(body["choices"][0]["message"]))


TAMPERED_BODIES = {
    "garbage": (lambda p: _edit(p, lambda d: d["response"].update(body="garbage")), "not a chat completion"),
    "no choices": (_body(lambda body: body.pop("choices")), "no 'choices' list"),
    "empty choices": (_body(lambda body: body.update(choices=[])), "'choices' is empty"),
    "no message": (_body(lambda body: body["choices"][0].update(message=None)), "no 'message' object"),
    "arguments not a string": (
        _message(lambda message: message["tool_calls"][0]["function"].update(arguments=5)),
        "function calls with string arguments",
    ),
    "nested too deeply": (lambda p: p.write_text("[" * 100_000), "nested too deeply"),
}


@pytest.mark.parametrize("kind", list(TAMPERED_BODIES))
def test_a_tampered_fixture_body_is_one_bad_fixture_line_in_replay_and_check(tmp_path, kind):
    damage, reason = TAMPERED_BODIES[kind]
    fixture = _seed_fixture(tmp_path)
    damage(fixture)
    run = _replay_cli(fixture.parent)
    assert run.exit_code == 3, run.output
    assert "Traceback" not in run.output and "differs in" not in run.output
    [line] = [line for line in run.output.splitlines() if line.strip()]
    assert line.startswith(f"extractor: error: bad fixture {fixture}: ") and reason in line
    check = CliRunner().invoke(app, ["fixtures", "check", "--fixtures", str(fixture.parent)])
    assert check.exit_code == 3, check.output
    [report] = [line for line in check.stdout.splitlines() if fixture.name in line]
    assert report.startswith("BROKEN") and reason in report


def test_a_stored_completion_without_an_answer_is_named_not_called_a_changed_request(tmp_path):
    fixture = _seed_fixture(tmp_path)

    def no_answer(message: dict) -> None:
        message.pop("tool_calls")
        message["content"] = None

    _message(no_answer)(fixture)
    run = _replay_cli(fixture.parent)
    assert run.exit_code == 3 and "Traceback" not in run.output
    first = run.output.splitlines()[0]
    assert str(fixture) in first and "no answer in the stored response" in first and "differs in" not in first
