"""The repository's authored fixtures and the `extractor fixtures` / replay CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from extractor import Extractor
from extractor.cli import app
from extractor.prompting import PromptTemplates, load_templates
from extractor.testing.scripted_server import Reply, ScriptedServer, tool_call_completion
from tests.support.answers import INVALID
from tests.support.paths import CORPUS, FIXTURES, GOLD, SEEDS

SEED = SEEDS / "000_dc08afd2001463f6.txt"
GOLD_ARTICLES = sorted(path.stem for path in GOLD.glob("*.json"))

runner = CliRunner()


def author(seed: str, answers: str, fixtures: str):
    """`extractor fixtures author SEED --answers DIR --fixtures DIR`, in-process."""
    return runner.invoke(app, ["fixtures", "author", seed, "--answers", answers, "--fixtures", fixtures])


def article_path(stem: str) -> Path:
    for folder in (SEEDS, CORPUS):
        if (folder / f"{stem}.txt").exists():
            return folder / f"{stem}.txt"
    raise FileNotFoundError(f"article {stem} not found in seeds/ or corpus/")


# What identifies an item independently of wording: the gold file and the pipeline must agree on it.
IDENTITY = {
    "aircraft": lambda a: (a["designation"], (a.get("operator") or {}).get("country"), a.get("count")),
    "exercises": lambda e: (
        e["kind"],
        e.get("start_date"),
        tuple(sorted(p.get("country") or "" for p in e["participants"])),
    ),
    "statements": lambda s: (s["speaker"]["name"], s["speaker"].get("country"), s["stance"]),
}


@pytest.mark.parametrize("stem", GOLD_ARTICLES)
def test_authored_fixtures_replay_every_gold_article(stem):
    """Replay, grounding and normalization together reproduce the hand-annotated gold items."""
    text = article_path(stem).read_text(encoding="utf-8")
    result = Extractor(provider="replay", fixtures_dir=FIXTURES).extract(text, article_id=stem).model_dump(mode="json")
    gold = json.loads((GOLD / f"{stem}.json").read_text())
    for kind, identity in IDENTITY.items():
        found = [identity(item) for item in result[kind]]
        annotated = [identity(item) for item in gold[kind]]
        required = [identity(item) for item in gold[kind] if item.get("_required")]
        assert not [key for key in required if key not in found], f"{kind}: gold items not extracted"
        assert not [key for key in found if key not in annotated], f"{kind}: items the gold does not have"
    evidence = [ev for kind in IDENTITY for item in result[kind] for ev in item["evidence"]]
    assert evidence and all(text[ev["start"] : ev["end"]] == ev["quote"] for ev in evidence)
    # Every quote is grounded where the annotator found it.
    gold_spans = {(ev["start"], ev["end"]) for kind in IDENTITY for item in gold[kind] for ev in item["evidence"]}
    assert {(ev["start"], ev["end"]) for ev in evidence} <= gold_spans


def test_authored_fixtures_are_marked_and_current():
    files = sorted(FIXTURES.glob("*.json"))
    assert len(files) >= 6
    for path in files:
        data = json.loads(path.read_text())
        if data["origin"] == "authored":
            assert data["note"] and data["meta"]["provider"] == "authored"
    result = runner.invoke(app, ["fixtures", "check", "--fixtures", str(FIXTURES)])
    assert result.exit_code == 0, result.output
    assert "INVALID" not in result.stdout and "stale" not in result.stdout


def test_cli_replays_the_seed_offline():
    result = runner.invoke(app, ["extract", str(SEED), "--provider", "replay", "--fixtures", str(FIXTURES)])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["article"]["id"] == SEED.stem and data["meta"]["provider"] == "replay"
    assert data["exercises"] and data["aircraft"] and data["statements"]


def test_cli_prints_a_replay_miss_as_one_line_with_exit_code_3(tmp_path):
    article = tmp_path / "unrecorded.txt"
    article.write_text("The navy held a drill on Monday.", encoding="utf-8")
    result = runner.invoke(app, ["extract", str(article), "--provider", "replay", "--fixtures", str(tmp_path)])
    assert result.exit_code == 3
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("extractor: error: replay miss: no fixture for request ")
    assert result.stdout == ""


def record_seed(fixtures: Path, replies: list[Reply]) -> None:
    with ScriptedServer(replies) as server:
        Extractor(
            provider="openai",
            base_url=server.base_url,
            api_key="sk-test",
            fixtures_mode="record",
            fixtures_dir=fixtures,
        ).extract(SEED.read_text(encoding="utf-8"))


def test_check_flags_a_stored_answer_that_no_longer_validates(tmp_path):
    authored = [p for p in FIXTURES.glob("voa-6183227.*.json") if json.loads(p.read_text())["origin"] == "authored"]
    shutil.copy(authored[0], tmp_path)
    [path] = tmp_path.glob("*.json")
    data = json.loads(path.read_text())
    data["response"]["body"]["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"] = json.dumps(INVALID)
    path.write_text(json.dumps(data))
    result = runner.invoke(app, ["fixtures", "check", "--fixtures", str(tmp_path)])
    assert result.exit_code == 1
    assert result.stdout.startswith("INVALID") and path.name in result.stdout and "exercises.0" in result.stdout


def test_check_accepts_the_invalid_first_answer_of_a_recorded_reask_chain(tmp_path):
    from tests.support.answers import VALID

    record_seed(tmp_path, [Reply(body=tool_call_completion(INVALID)), Reply(body=tool_call_completion(VALID))])
    result = runner.invoke(app, ["fixtures", "check", "--fixtures", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "re-asked answer" in result.stdout and "INVALID" not in result.stdout


def test_prune_lists_stale_fixtures_and_deletes_only_with_yes(tmp_path, monkeypatch):
    for path in FIXTURES.glob("voa-*.json"):
        shutil.copy(path, tmp_path)
    count = len(list(tmp_path.glob("*.json")))
    dry = runner.invoke(app, ["fixtures", "prune", "--fixtures", str(tmp_path)])
    assert dry.exit_code == 0 and dry.stdout == ""
    current = load_templates()
    bumped = str(int(current.version) + 1)
    monkeypatch.setattr(
        "extractor.prompting.load_templates", lambda: PromptTemplates(current.system, current.user, version=bumped)
    )
    dry = runner.invoke(app, ["fixtures", "prune", "--fixtures", str(tmp_path)])
    assert dry.exit_code == 0 and dry.stdout.count(f"prompt version {current.version} (now {bumped})") == count
    assert len(list(tmp_path.glob("*.json"))) == count
    wet = runner.invoke(app, ["fixtures", "prune", "--fixtures", str(tmp_path), "--yes"])
    assert wet.exit_code == 0 and wet.stdout.count("deleted") == count
    assert list(tmp_path.glob("*.json")) == []


def test_author_rejects_evidence_that_is_not_verbatim(tmp_path):
    answer = tmp_path / "seed.json"
    draft = json.loads((FIXTURES / "reference" / f"{SEED.stem}.json").read_text())
    draft["aircraft"][0]["evidence"][0]["quote"] = "A quote the article never had."
    answer.write_text(json.dumps(draft))
    shutil.copy(SEED, tmp_path / "seed.txt")
    result = author(str(tmp_path / "seed.txt"), str(tmp_path), str(tmp_path / "out"))
    assert result.exit_code == 2 and "not verbatim" in result.stderr
    assert not (tmp_path / "out").exists()


def test_author_writes_the_request_the_default_replay_extractor_sends(tmp_path):
    shutil.copy(SEED, tmp_path / "seed.txt")
    result = author(str(tmp_path / "seed.txt"), str(FIXTURES / "reference"), str(tmp_path / "out"))
    assert result.exit_code == 2  # the answer file is looked up by stem: seed.json does not exist
    shutil.copy(FIXTURES / "reference" / f"{SEED.stem}.json", tmp_path / "seed.json")
    result = author(str(tmp_path / "seed.txt"), str(tmp_path), str(tmp_path / "out"))
    assert result.exit_code == 0, result.stderr
    [written] = (tmp_path / "out").glob("seed.*.json")
    # The article id is not in the prompt, so the key equals the repository's fixture for the seed.
    assert (FIXTURES / written.name.replace("seed.", f"{SEED.stem}.", 1)).exists()
