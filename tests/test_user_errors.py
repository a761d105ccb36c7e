"""User errors end in one line and an exit code, never a traceback, a hang or a paid call."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from extractor.cli import app
from extractor.errors import InputError
from extractor.input.article import find_article
from extractor.testing.scripted_server import Reply, ScriptedServer, tool_call_completion
from tests.support.answers import VALID
from tests.support.cli import one_error_line, run_cli

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "000_dc08afd2001463f6.txt"


# -- inputs ----------------------------------------------------------------------------------


def test_a_fifo_as_input_is_refused_without_hanging(tmp_path):
    fifo = tmp_path / "article.txt"
    os.mkfifo(fifo)
    result = run_cli("extract", str(fifo), "--provider", "replay")  # would block forever on open()
    assert result.returncode == 2
    assert "not a regular file" in one_error_line(result.stderr)


def _limit_memory() -> None:
    import resource

    # Reading /dev/zero never ends: if the check ever regresses, fail fast instead of eating RAM.
    resource.setrlimit(resource.RLIMIT_AS, (1 << 31, 1 << 31))


def test_a_device_as_input_is_refused():
    result = run_cli("extract", "/dev/zero", "--provider", "replay", preexec_fn=_limit_memory)
    assert result.returncode == 2
    assert "not a regular file" in one_error_line(result.stderr)


def test_a_closed_stdin_is_an_input_error():
    result = run_cli("extract", "-", "--provider", "replay", stdin=None, pass_fds=(), preexec_fn=lambda: os.close(0))
    assert result.returncode == 2
    assert "stdin is closed" in one_error_line(result.stderr)


@pytest.mark.parametrize("url", ["not a url", "ftp://example.org/v1", "http://", "localhost:8080/v1"])
def test_an_invalid_base_url_is_a_config_error(url):
    result = run_cli("extract", str(SEED), "--provider", "openai", "--base-url", url)
    assert result.returncode == 3
    assert "not a valid URL" in one_error_line(result.stderr)


# -- review ----------------------------------------------------------------------------------


def _result(article_id: str = "a1", **changes) -> dict:
    ev = {"quote": "B-52 bombers", "start": 4, "end": 16, "match": "exact"}
    result = {
        "article": {"id": article_id, "title": "T"},
        "exercises": [],
        "aircraft": [{"designation": "B-52", "mention": "B-52 bombers", "evidence": [ev]}],
        "statements": [],
        "meta": {"warnings": []},
    }
    result.update(changes)
    return result


@pytest.mark.parametrize(
    "result, field",
    [
        ({"article": "a1"}, "article"),
        (_result(aircraft="B-52"), "aircraft"),
        (_result(aircraft=[{"evidence": [{"quote": None}]}]), "aircraft.0.evidence.0.quote"),
        (_result(exercises=[{"participants": [{"country": "USA"}]}]), "exercises.0.participants.0.name"),
        (_result(meta={"warnings": None}), "meta.warnings"),
        ([1, 2], "result"),
    ],
)
def test_review_of_a_malformed_result_is_one_line(tmp_path, result, field):
    path = tmp_path / "r.json"
    path.write_text(json.dumps(result), encoding="utf-8")
    run = CliRunner().invoke(app, ["review", str(path), "--html", str(tmp_path / "out.html")])
    assert run.exit_code == 2, run.output
    line = one_error_line(run.output)
    assert str(path) in line and field in line


def test_review_of_a_malformed_jsonl_line_names_the_line(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text(json.dumps(_result()) + "\n" + json.dumps({"result": _result(statements=[{"evidence": 3}])}) + "\n")
    run = CliRunner().invoke(app, ["review", str(path), "--html", str(tmp_path / "out.html")])
    assert run.exit_code == 2 and f"{path}:2" in one_error_line(run.output)


@pytest.mark.parametrize("article_id", ["../private/secret", "{outside}", "/ABS"])
def test_review_articles_only_reads_files_inside_the_folder(tmp_path, article_id):
    articles = tmp_path / "articles"
    private = tmp_path / "private"
    articles.mkdir()
    private.mkdir()
    (private / "secret.txt").write_text("TOP SECRET payroll B-52 bombers", encoding="utf-8")
    outside = private / "secret.txt"
    (articles / "outside.txt").symlink_to(outside)  # a link inside the folder leading out of it
    article_id = {"{outside}": "outside", "/ABS": str(private / "secret")}.get(article_id, article_id)
    results = tmp_path / "r.jsonl"
    results.write_text(json.dumps(_result(article_id)) + "\n", encoding="utf-8")
    out = tmp_path / "out.html"
    run = CliRunner().invoke(app, ["review", str(results), "--articles", str(articles), "--html", str(out)])
    assert run.exit_code == 0, run.output
    assert "TOP SECRET" not in out.read_text(encoding="utf-8")
    assert find_article(article_id, [articles]) is None


def test_review_articles_still_finds_a_plain_id(tmp_path):
    (tmp_path / "a1.txt").write_text("Two B-52 bombers flew.", encoding="utf-8")
    assert find_article("a1", [tmp_path]) == tmp_path.resolve() / "a1.txt"


# -- outputs ---------------------------------------------------------------------------------


def _extract_to(server: ScriptedServer, output: Path):
    return CliRunner().invoke(
        app,
        ["extract", str(SEED), "--provider", "openai", "--base-url", server.base_url, "-o", str(output)],
        env={"OPENAI_API_KEY": "sk-test-key-000000000", "EXTRACTOR_FIXTURES_MODE": "off"},
    )


def _bad_outputs(tmp_path: Path) -> dict[str, Path]:
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    (tmp_path / "a-file").write_text("x")
    return {
        "directory": tmp_path,
        "fifo": fifo,
        "missing folder": tmp_path / "nope" / "out.json",
        "folder is a file": tmp_path / "a-file" / "out.json",
        "unwritable folder": Path("/proc/extractor-out.json"),
    }


@pytest.mark.parametrize("kind", ["directory", "fifo", "missing folder", "folder is a file", "unwritable folder"])
def test_a_bad_output_is_refused_before_any_model_call(tmp_path, kind):
    output = _bad_outputs(tmp_path)[kind]
    with ScriptedServer([Reply(body=tool_call_completion(VALID))]) as server:
        run = _extract_to(server, output)
        assert server.seen == []  # no tokens spent
    assert run.exit_code == 2, run.output
    one_error_line(run.output)


def test_a_device_is_refused_as_output():
    from extractor.output.files import check_output_path

    # Checked directly: a regression must not get as far as replacing /dev/null.
    with pytest.raises(InputError, match="not a regular file"):
        check_output_path(Path("/dev/null"))


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write in a read-only folder")
def test_a_read_only_folder_is_refused(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    with ScriptedServer([Reply(body=tool_call_completion(VALID))]) as server:
        run = _extract_to(server, folder / "out.json")
        assert server.seen == []
    assert run.exit_code == 2 and "cannot write" in one_error_line(run.output)


def test_a_symlinked_output_is_written_through(tmp_path):
    target = tmp_path / "real.json"
    target.write_text("old", encoding="utf-8")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    with ScriptedServer([Reply(body=tool_call_completion(VALID))]) as server:
        run = _extract_to(server, link)
    assert run.exit_code == 0, run.output
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert json.loads(target.read_text(encoding="utf-8"))["aircraft"][0]["designation"] == "B-52"


def test_a_dangling_symlink_creates_its_target(tmp_path):
    from extractor.output.files import write_atomically

    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "new.json")
    write_atomically(link, "{}\n")
    assert link.is_symlink() and (tmp_path / "new.json").read_text() == "{}\n"


def test_review_checks_its_output_before_reading_results(tmp_path):
    results = tmp_path / "r.json"
    results.write_text("not json", encoding="utf-8")  # would be the error if read first
    run = CliRunner().invoke(app, ["review", str(results), "--html", str(tmp_path / "nope" / "out.html")])
    assert run.exit_code == 2 and "does not exist" in one_error_line(run.output)


# -- job stores -------------------------------------------------------------------------------


def test_a_file_that_is_not_a_job_store_is_one_line_exit_2(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from extractor.cli import app

    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.db").write_text("not sqlite at all\n", encoding="utf-8")
    exported = CliRunner().invoke(app, ["export", "notes.db"])
    assert exported.exit_code == 2
    assert "notes.db: not a job store" in exported.output
    article = tmp_path / "a.txt"
    article.write_text("NATO allies flew B-52 bombers over the Baltic Sea on Monday.", encoding="utf-8")
    batched = CliRunner().invoke(
        app, ["batch", str(article), "--out", "r.jsonl", "--db", "notes.db", "--provider", "replay"]
    )
    assert batched.exit_code == 2
    assert "notes.db: not a job store" in batched.output


def test_batch_out_a_directory_is_refused_before_a_store_is_made(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from extractor.cli import app

    monkeypatch.chdir(tmp_path)
    (tmp_path / "results").mkdir()
    article = tmp_path / "a.txt"
    article.write_text("NATO allies flew B-52 bombers over the Baltic Sea on Monday.", encoding="utf-8")
    result = CliRunner().invoke(app, ["batch", str(article), "--out", "results", "--provider", "replay"])
    assert result.exit_code == 2
    assert "is a directory" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "results"]
