"""The shared provider options reach the Extractor from every command that takes them."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from extractor.cli import app
from tests.support.paths import GOLD, ROOT, SEEDS

runner = CliRunner()


def test_eval_with_replay_provider_scores_the_reference_fixtures(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the default ./fixtures is not here: only --fixtures can find them
    result = runner.invoke(
        app, ["eval", str(GOLD), "--provider", "replay", "--fixtures", str(ROOT / "fixtures"), "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["total"]["overall"]["f1"] == 1.0
    assert set(report["articles"]) == {p.stem for p in GOLD.glob("*.json")}


def test_batch_with_replay_provider_uses_the_given_fixtures(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "results.jsonl"
    result = runner.invoke(
        app,
        [
            "batch",
            str(SEEDS),
            "--out",
            str(out),
            "--provider",
            "replay",
            "--fixtures",
            str(ROOT / "fixtures"),
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    [line] = out.read_text().splitlines()
    extraction = json.loads(line)
    assert extraction["meta"]["provider"] == "replay"
    assert {a["designation"] for a in extraction["aircraft"]} >= {"B-52", "F-2", "KF-16"}


def test_unknown_fixtures_folder_is_a_replay_miss_not_a_crash(tmp_path):
    result = runner.invoke(
        app, ["extract", str(SEEDS / "000_dc08afd2001463f6.txt"), "--provider", "replay", "--fixtures", str(tmp_path)]
    )
    assert result.exit_code == 3
    assert "replay miss" in result.stderr


def test_the_bundled_model_says_once_that_it_is_a_demonstration(tmp_path):
    import pytest

    from extractor.local import local_available

    if not local_available():
        pytest.skip("bundled model not installed")
    # Replays the bundled model's recorded answers: the notice is about whose answers they are.
    seed = str(SEEDS / "000_dc08afd2001463f6.txt")
    options = ["--fixtures-mode", "replay", "--fixtures", str(ROOT / "fixtures")]
    local = runner.invoke(app, ["extract", seed, "--provider", "local", *options])
    assert local.exit_code == 0, local.output
    assert json.loads(local.stdout)["meta"]["provider"] == "local"
    [notice] = local.stderr.splitlines()
    assert "demonstration model" in notice and "--base-url" in notice and "OPENAI_API_KEY" in notice
    replay = runner.invoke(app, ["extract", seed, "--provider", "replay", "--fixtures", str(ROOT / "fixtures")])
    assert replay.exit_code == 0 and replay.stderr == ""
