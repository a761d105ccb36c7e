"""Bugs surface as bugs, only invalid answers are re-asked, and an echoed key is never shown."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from pydantic import BaseModel
from tenacity import RetryError
from typer.testing import CliRunner

from extractor import Extractor
from extractor.cli import app
from extractor.errors import ExtractionFailed
from extractor.model_call.retry import reask_retrying
from extractor.testing.scripted_server import Reply, ScriptedServer, tool_call_completion
from tests.support.answers import SEED_TEXT, VALID

SECRET = "sk-echoed-secret-key-0123456789abcdef"


def _extractor(server: ScriptedServer, **settings) -> Extractor:
    return Extractor(
        provider="openai",
        base_url=server.base_url,
        api_key=SECRET,
        fixtures_mode="off",
        backoff_initial=0.01,
        request_timeout=10,
        **settings,
    )


def test_a_type_error_in_our_code_surfaces_as_itself_and_is_not_re_asked(monkeypatch):
    def broken_check(*args, **kwargs):
        def check(draft):
            raise TypeError("bug in the grounding check")

        return check

    monkeypatch.setattr("extractor.pipeline.make_grounding_check", broken_check)
    with ScriptedServer([Reply(body=tool_call_completion(VALID))]) as server:
        with pytest.raises(TypeError, match="bug in the grounding check"):
            _extractor(server).extract(SEED_TEXT)
        assert len(server.seen) == 1


def test_a_bare_value_error_is_not_re_asked():
    calls = []

    def raises_value_error():
        calls.append(1)
        raise ValueError("not a validation error")

    with pytest.raises(ValueError):
        reask_retrying(2)(raises_value_error)
    assert len(calls) == 1


def test_a_validation_error_is_re_asked():
    calls = []

    class Draft(BaseModel):
        n: int

    def invalid():
        calls.append(1)
        return Draft.model_validate({"n": "x"})

    with pytest.raises(RetryError):  # every attempt re-asked, then tenacity gives up
        reask_retrying(2)(invalid)
    assert len(calls) == 3


def test_a_key_echoed_in_an_answer_is_redacted_from_the_error_and_last_output():
    echoed = {"exercises": [{"description": f"key {SECRET}", "kind": "nope", "evidence": []}]}
    with ScriptedServer([Reply(body=tool_call_completion(echoed))]) as server:
        with pytest.raises(ExtractionFailed) as caught:
            _extractor(server, max_reasks=0).extract(SEED_TEXT)
    error = caught.value
    assert error.last_output and "[REDACTED]" in error.last_output
    assert SECRET not in str(error) and SECRET not in error.last_output


def test_a_key_echoed_back_never_reaches_the_error_line(tmp_path):
    echoed = {"exercises": [{"description": f"key {SECRET}", "kind": "nope", "evidence": []}]}
    with ScriptedServer([Reply(body=tool_call_completion(echoed))]) as server:
        run = CliRunner().invoke(
            app,
            [
                "extract",
                str(Path(__file__).parent.parent / "seeds" / "000_dc08afd2001463f6.txt"),
                "--provider",
                "openai",
                "--base-url",
                server.base_url,
            ],
            env={"OPENAI_API_KEY": SECRET, "EXTRACTOR_MAX_REASKS": "0", "EXTRACTOR_FIXTURES_MODE": "off"},
        )
    assert run.exit_code == 4
    assert SECRET not in run.output and "last output" in run.output and "[REDACTED]" in run.output


def test_fail_redacts_a_key_from_any_error_message(monkeypatch, capsys):
    import typer

    from extractor.cli.common import fail

    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    with pytest.raises(typer.Exit):
        fail(RuntimeError(f"server said: bad key {SECRET}"), 3)
    err = capsys.readouterr().err
    assert SECRET not in err and "[REDACTED]" in err


def test_csv_export_neutralizes_formula_cells(tmp_path, monkeypatch):
    from extractor.output.export import export_csv

    formulas = ['=HYPERLINK("http://evil","x")', "+1+1", "-2+3", "@SUM(A1)"]
    result = Extractor(provider="replay", fixtures_dir=Path(__file__).parent.parent / "fixtures").extract(
        SEED_TEXT, article_id="=cmd|' /C calc'!A0"
    )
    data = json.loads(result.model_dump_json())
    data["aircraft"] = [dict(data["aircraft"][0], mention=text) for text in formulas]
    monkeypatch.setattr("extractor.output.export.iter_results", lambda store: iter([("k", json.dumps(data))]))
    export_csv(None, tmp_path)
    with open(tmp_path / "aircraft.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["mention"] for row in rows] == ["'" + text for text in formulas]
    assert all(row["article_id"] == "'=cmd|' /C calc'!A0" for row in rows)
    assert rows[0]["designation"] == data["aircraft"][0]["designation"]  # ordinary text untouched
    assert rows[0]["item"] == "1"


@pytest.mark.parametrize("cell, shown", [("\tx", "'\tx"), ("\r=1", "'\r=1"), ("a=1", "a=1"), (-5, -5), (None, None)])
def test_safe_cell_quotes_every_formula_start_and_leaves_numbers(cell, shown):
    from extractor.output.export import safe_cell

    assert safe_cell(cell) == shown


def test_a_key_echoed_in_an_error_body_is_redacted_from_the_logs(caplog):
    import logging

    refusal = {"error": {"message": f"bad request for key {SECRET}"}}
    with caplog.at_level(logging.DEBUG), ScriptedServer([Reply(status=400, body=refusal)]) as server:
        with pytest.raises(ExtractionFailed):
            _extractor(server).extract(SEED_TEXT)
    assert "bad request for key" in caplog.text  # the library did log the body...
    assert SECRET not in caplog.text  # ...without the key
