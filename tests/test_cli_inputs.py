"""Every kind of bad input: one clear line on stderr, the right exit code, no traceback, no partial file.

Most checks run the command in-process with typer's CliRunner; a few run the real
`python -m extractor.cli` in a subprocess, for stdin and the process exit code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from extractor.cli import app
from tests.support.paths import SEEDS

SEED = SEEDS / "000_dc08afd2001463f6.txt"


@dataclass
class Outcome:
    """What a run of the command left behind, however it was run."""

    code: int
    stdout: str
    stderr: str
    crashed: BaseException | None = None
    """An exception that escaped the command (a traceback in a real run)."""


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No EXTRACTOR_/OPENAI_ settings from the caller's shell, and no stray .env in the cwd."""
    for name in list(os.environ):
        if name.startswith(("EXTRACTOR_", "OPENAI_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def run_cli(*args: str, env: dict | None = None) -> Outcome:
    """The command in-process."""
    result = CliRunner().invoke(app, list(args), env=env)
    crashed = None if isinstance(result.exception, (SystemExit, type(None))) else result.exception
    return Outcome(result.exit_code, result.stdout, result.stderr, crashed)


def extract_live(base_url: str, *extra: str, env: dict | None = None) -> Outcome:
    """`extract` of the seed against an OpenAI-compatible server, fixtures off."""
    return run_cli(
        "extract", str(SEED), "--provider", "openai", "--base-url", base_url, "--fixtures-mode", "off", *extra, env=env
    )


def run_process(*args: str, stdin: bytes | None = None) -> Outcome:
    """The command as a real process."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("EXTRACTOR_", "OPENAI_"))}
    result = subprocess.run(
        [sys.executable, "-m", "extractor.cli", *args], input=stdin, capture_output=True, env=environment, timeout=120
    )
    return Outcome(result.returncode, result.stdout.decode(), result.stderr.decode())


def assert_one_line_error(result: Outcome, code: int, *fragments: str) -> str:
    assert result.crashed is None, repr(result.crashed)
    assert result.code == code, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("extractor: error: ")
    for fragment in fragments:
        assert fragment in lines[0]
    assert result.stdout == ""
    return lines[0]


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


REPLAY = ["--provider", "replay"]


def test_missing_file(workdir):
    assert_one_line_error(run_cli("extract", str(workdir / "nope.txt"), *REPLAY), 2, "no such file")


def test_directory(workdir):
    assert_one_line_error(run_cli("extract", str(workdir), *REPLAY), 2, "directory")


@pytest.mark.parametrize("content", [b"", b"   \n\t\n"])
def test_empty_or_whitespace_file(workdir, content):
    path = workdir / "empty.txt"
    path.write_bytes(content)
    assert_one_line_error(run_cli("extract", str(path), *REPLAY), 2, "empty")


def test_binary_file(workdir):
    path = workdir / "image.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    assert_one_line_error(run_cli("extract", str(path), *REPLAY), 2, "binary")


def test_non_utf8_file(workdir):
    path = workdir / "latin1.txt"
    path.write_bytes("Déclaration du ministère".encode("latin-1"))
    assert_one_line_error(run_cli("extract", str(path), *REPLAY), 2, "UTF-8")


def test_file_over_size_limit(workdir):
    path = workdir / "huge.txt"
    path.write_bytes(b"word " * 1000)
    result = run_cli("extract", str(path), *REPLAY, env={"EXTRACTOR_MAX_INPUT_BYTES": "1000"})
    assert_one_line_error(result, 2, "limit")


@pytest.mark.parametrize(
    "content, fragment",
    [
        (b'{"id": "a", "text": "unterminated', "malformed JSON"),
        (b'["a list"]', "JSON object"),
        (b'{"id": "a"}', "text"),
        (b'{"id": "a", "text": "ok", "published": "yesterday"}', "ISO date"),
    ],
)
def test_malformed_json_input(workdir, content, fragment):
    path = workdir / "article.json"
    path.write_bytes(content)
    assert_one_line_error(run_cli("extract", str(path), *REPLAY), 2, fragment)


def test_unsupported_suffix(workdir):
    path = workdir / "article.pdf"
    path.write_bytes(b"%PDF-1.4")
    assert_one_line_error(run_cli("extract", str(path), *REPLAY), 2, "unsupported")


def test_empty_stdin():
    assert_one_line_error(run_process("extract", "-", *REPLAY, stdin=b""), 2, "empty")


def test_bad_setting_value_is_a_usage_error():
    assert_one_line_error(run_cli("extract", str(SEED), "--provider", "telepathy"), 2, "provider")


def test_openai_without_key_is_a_configuration_error():
    result = run_process("extract", str(SEED), "--provider", "openai", "--fixtures-mode", "off")
    assert_one_line_error(result, 3, "OPENAI_API_KEY")


def test_unreachable_server_fails_with_exit_4_and_no_output_file(workdir):
    out = workdir / "out.json"
    result = extract_live(
        "http://127.0.0.1:9/v1",
        "--output",
        str(out),
        env={"EXTRACTOR_TRANSPORT_RETRIES": "1", "EXTRACTOR_BACKOFF_INITIAL": "0.01"},
    )
    assert_one_line_error(result, 4, "could not reach")
    assert not out.exists()
    assert list(workdir.iterdir()) == []


def test_output_directory_missing(workdir):
    result = run_cli("extract", str(SEED), *REPLAY, "--output", str(workdir / "no" / "such" / "out.json"))
    assert_one_line_error(result, 2, "output directory")


def test_version_and_schema():
    version = run_cli("--version")
    assert version.code == 0 and version.stdout.startswith("extractor ")
    schema = run_cli("schema")
    assert schema.code == 0
    assert "ArticleExtraction" in json.loads(schema.stdout)["title"]


def test_always_invalid_answers_exit_4_with_the_last_output_on_one_line():
    from extractor.testing.scripted_server import Reply, ScriptedServer, tool_call_completion
    from tests.support.answers import INVALID

    with ScriptedServer([Reply(body=tool_call_completion(INVALID))]) as server:
        result = extract_live(server.base_url, env={"OPENAI_API_KEY": "sk-test-secret-value"})
    line = assert_one_line_error(result, 4, "no valid answer after 3 attempts", "last output:", "underwater")
    assert "sk-test-secret-value" not in line
    assert len(server.seen) == 3


def test_refused_key_is_exit_3_and_never_printed():
    from extractor.testing.scripted_server import Reply, ScriptedServer

    key = "sk-test-refused-key-987654"
    refusal = {"error": {"message": f"Incorrect API key provided: {key}.", "code": "invalid_api_key"}}
    with ScriptedServer([Reply(401, refusal)]) as server:
        result = extract_live(server.base_url, env={"OPENAI_API_KEY": key})
    assert_one_line_error(result, 3, "401")
    assert key not in result.stderr and len(server.seen) == 1
