"""docs/contract.md and the contract models cannot drift apart; statements carry date_text (1.1)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from extractor.cli import app
from extractor.docs import check, render, type_name
from extractor.schemas import ArticleExtraction, ExtractionDraft, PoliticalStatement, StatementDraft
from tests.support.paths import CONTRACT_PAGE, CORPUS, FIXTURES, ROOT

PAGE = CONTRACT_PAGE.read_text(encoding="utf-8")
# The statement's row (contract 1.1); its meaning is the model's own description, which a
# rebuilt row starts with.
DATE_TEXT_ROW = next(
    line for line in PAGE.splitlines() if line.startswith("| date_text |") and "late last night" in line
)


def test_the_contract_page_matches_the_models():
    assert check(PAGE) == []
    assert render(PAGE) == PAGE


def test_a_model_field_missing_from_the_page_is_reported():
    page = PAGE.replace(DATE_TEXT_ROW + "\n", "")
    assert check(page) == ["PoliticalStatement.date_text: field missing from the page"]


def test_a_page_field_the_models_do_not_have_is_reported():
    page = PAGE.replace(DATE_TEXT_ROW, DATE_TEXT_ROW + "\n| mood | `str` | how the speaker felt |")
    assert check(page) == ["PoliticalStatement.mood: the model has no such field"]


def test_a_retyped_field_is_reported():
    page = PAGE.replace("| count | `int \\| null` |", "| count | `str \\| null` |")
    assert check(page) == ["Aircraft.count: type is `int \\| null` in the model, `str \\| null` in the page"]


def test_a_model_without_a_table_is_reported():
    page = PAGE.replace("<!-- fields: Usage -->", "")
    assert check(page) == ["Usage: no field table in the page"]


def test_render_rebuilds_a_table_and_keeps_the_written_meanings():
    page = PAGE.replace(DATE_TEXT_ROW + "\n", "").replace("| mention | `str` |", "| mention | `int` |")
    rendered = render(page)
    assert rendered == PAGE  # the row comes back with the model's description; the type is fixed
    assert '| mention | `str` | as written ("B-52s", "KF-16 Combating Falcons") |' in rendered


def test_types_are_spelled_as_the_contract_spells_them():
    assert type_name(PoliticalStatement.model_fields["date_text"].annotation) == "str | null"
    assert type_name(PoliticalStatement.model_fields["targets"].annotation) == "list[Actor]"
    assert type_name(ArticleExtraction.model_fields["schema_version"].annotation) == '"1" | "1.2"'


def run_docs(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "extractor.docs", *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=60)


def test_docs_check_command_passes_on_the_page_and_fails_on_drift(tmp_path):
    assert run_docs("--check").returncode == 0  # default page: docs/contract.md
    drifted = tmp_path / "contract.md"
    drifted.write_text(PAGE.replace(DATE_TEXT_ROW + "\n", ""), encoding="utf-8")
    result = run_docs(str(drifted), "--check")
    assert result.returncode == 1
    assert result.stderr.strip() == f"{drifted}: PoliticalStatement.date_text: field missing from the page"
    assert drifted.read_text(encoding="utf-8") != PAGE  # --check changes nothing


def test_docs_command_rewrites_a_drifted_page(tmp_path):
    drifted = tmp_path / "contract.md"
    drifted.write_text(PAGE.replace(DATE_TEXT_ROW + "\n", ""), encoding="utf-8")
    assert run_docs(str(drifted)).returncode == 0
    assert drifted.read_text(encoding="utf-8") == PAGE


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read (FileNotFoundError)"),
        ("<!-- fields: Weather -->\n| field | type | meaning |\n|---|---|---|\n", "Weather: not a contract model"),
        ("<!-- fields: Usage -->\n| a | b |\n", "must start with | field | type | meaning |"),
    ],
)
def test_docs_command_reports_a_bad_page_in_one_line(tmp_path, content, message):
    page = tmp_path / "page.md"
    if content is not None:
        page.write_text(content, encoding="utf-8")
    result = run_docs(str(page))
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr
    assert "Traceback" not in result.stderr


def test_the_model_is_asked_for_a_statements_date_text():
    # Prompt v2: the draft (the schema sent with every request) carries the field too.
    assert "date_text" in PoliticalStatement.model_fields
    assert "date_text" in StatementDraft.model_fields
    draft = ExtractionDraft.model_json_schema()["$defs"]["StatementDraft"]["properties"]
    assert "date_text" in draft


def test_extracted_statements_carry_date_text_resolved_against_published():
    result = CliRunner().invoke(
        app, ["extract", str(CORPUS / "voa-6180015.txt"), "--provider", "replay", "--fixtures", str(FIXTURES)]
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    ArticleExtraction.model_validate(document)
    akar = [s for s in document["statements"] if s["date_text"] == "Monday"]
    assert akar and akar[0]["speaker"]["name"] == "Hulusi Akar"
    # The .txt has no metadata, so "Monday" cannot be resolved: the words stay, the date is null.
    assert akar[0]["date"] is None
