"""The rules provider as users reach it: CLI, Python API, batch, service, `auto` without a key."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from _rulekit import rules, spans_are_exact
from typer.testing import CliRunner

from extractor import Extractor, Settings
from extractor.cli import app
from extractor.rules.version import MODEL_NAME, digest_of, rules_files, rules_fingerprint
from tests.support.paths import CORPUS, SEEDS

SEED = SEEDS / "000_dc08afd2001463f6.txt"
ARTICLE = (
    "Two Russian Tu-95 bombers flew over the Sea of Japan on Tuesday, escorted by Su-35 fighters, and Japan "
    "Air Self-Defense Force F-15 jets were scrambled in response, the Japanese Defense Ministry said in a statement. "
    "China and Russia will hold joint naval drills in the East China Sea next month, China's Defense Ministry "
    "announced on Wednesday."
)
runner = CliRunner()


@pytest.fixture
def no_key(monkeypatch, tmp_path):
    for name in list(__import__("os").environ):
        if name.startswith(("EXTRACTOR_", "OPENAI_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_auto_without_a_key_is_the_rules(no_key):
    assert Settings().resolved_provider() == "rules"
    extractor = Extractor()
    assert (extractor.provider, extractor.model) == ("rules", MODEL_NAME)


def test_auto_with_a_key_is_still_openai(no_key, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    assert Settings().resolved_provider() == "openai"


def test_cli_names_the_backend_and_the_other_providers(no_key):
    result = runner.invoke(app, ["extract", str(SEED)])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert (document["meta"]["provider"], document["meta"]["model"]) == ("rules", MODEL_NAME)
    [notice] = result.stderr.splitlines()
    assert "rules" in notice and "--provider openai" in notice and "--provider replay" in notice
    explicit = runner.invoke(app, ["extract", str(SEED), "--provider", "rules"])
    assert explicit.exit_code == 0 and explicit.stderr == ""  # asked for by name: nothing to explain


def test_the_seed_gives_grounded_items_of_every_type():
    text = SEED.read_text(encoding="utf-8")
    result = rules(text)
    assert result.exercises and result.aircraft and result.statements
    assert spans_are_exact(result, text)
    assert not [w for w in result.meta.warnings if w.startswith("dropped")]
    meta = result.meta
    assert (meta.provider, meta.model, meta.attempts, meta.usage.total_tokens) == ("rules", MODEL_NAME, 0, 0)
    assert meta.fingerprint == rules_fingerprint()


def test_python_api_sync_and_async_agree():
    import asyncio

    with Extractor(provider="rules") as extractor:
        sync = extractor.extract(ARTICLE, article_id="a1", published="2025-03-12")
        in_loop = asyncio.run(extractor.aextract(ARTICLE, article_id="a1", published="2025-03-12"))
    keep = {"exercises", "aircraft", "statements", "article"}
    assert sync.model_dump(include=keep) == in_loop.model_dump(include=keep)
    assert [a.designation for a in sync.aircraft] == ["Tu-95", "Su-35", "F-15"]
    assert [e.status for e in sync.exercises] == ["planned"]


def test_the_same_text_gives_the_same_items():
    keep = {"exercises", "aircraft", "statements", "article"}
    first, second = rules(ARTICLE), rules(ARTICLE)
    assert first.model_dump(include=keep) == second.model_dump(include=keep)
    assert first.meta.fingerprint == second.meta.fingerprint


def test_no_duplicates_in_the_corpus():
    """Within an article no two items of a type share their identity (same evidence, same aircraft and place)."""
    for path in sorted(CORPUS.glob("*.txt")):
        result = rules(path.read_text(encoding="utf-8"))
        aircraft = [(a.designation, a.operator and a.operator.country, a.deployed_to) for a in result.aircraft]
        statements = [(s.speaker.name, s.evidence[0].start, s.quote) for s in result.statements]
        exercises = [(e.evidence[0].start, e.evidence[0].end) for e in result.exercises]
        for keys in (aircraft, statements, exercises):
            assert len(keys) == len(set(keys)), (path.name, keys)


def test_the_fingerprint_changes_when_the_rules_do(tmp_path: Path):
    copies = []
    for entry in rules_files():
        copy = tmp_path / entry.name
        copy.write_bytes(entry.read_bytes())
        copies.append(copy)
    assert digest_of(sorted(copies, key=lambda p: p.name)) == rules_fingerprint()
    stance = next(p for p in copies if p.name == "stance.py")
    stance.write_text(stance.read_text() + "\n# one more word\n")
    assert digest_of(sorted(copies, key=lambda p: p.name)) != rules_fingerprint()


def test_batch_through_the_python_api(tmp_path: Path):
    texts = [ARTICLE, SEED.read_text(encoding="utf-8"), "Stocks rose on Friday as bond yields fell."]
    with Extractor(provider="rules") as extractor:
        outcomes = extractor.batch(texts, concurrency=2, store=tmp_path / "job.db")
    assert sorted(o.status for o in outcomes) == ["done", "done", "done"]
    items = sorted(len(o.result.aircraft) + len(o.result.statements) for o in outcomes if o.result)
    assert items[0] == 0 and items[1] > 0  # the market report has nothing; the others have items


def test_batch_cli_and_resume(tmp_path: Path, no_key):
    source = tmp_path / "articles.jsonl"
    rows = [{"id": "a1", "text": ARTICLE}, {"id": "seed", "text": SEED.read_text(encoding="utf-8")}]
    source.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    out = tmp_path / "results.jsonl"
    first = runner.invoke(app, ["batch", str(source), "--out", str(out), "--provider", "rules"])
    assert first.exit_code == 0, first.output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert {line["article"]["id"] for line in lines} == {"a1", "seed"}
    assert {line["meta"]["provider"] for line in lines} == {"rules"}
    again = runner.invoke(app, ["batch", str(source), "--out", str(out), "--provider", "rules"])
    assert again.exit_code == 0 and len(out.read_text().splitlines()) == 2


def test_the_batch_api_is_refused_for_the_rules(tmp_path: Path, no_key):
    source = tmp_path / "articles.jsonl"
    source.write_text(json.dumps({"id": "a1", "text": ARTICLE}) + "\n", encoding="utf-8")
    result = runner.invoke(
        app, ["batch", str(source), "--out", str(tmp_path / "r.jsonl"), "--provider", "rules", "--via", "batch-api"]
    )
    assert result.exit_code == 3 and "--via live" in result.stderr


def test_eval_scores_the_rules_offline(tmp_path: Path):
    gold = tmp_path / "gold"
    gold.mkdir()
    shutil.copy(Path(__file__).parents[1] / "gold" / "voa-7677701.json", gold)
    result = runner.invoke(app, ["eval", str(gold), "--provider", "rules", "--articles", str(CORPUS), "--json"])
    assert result.exit_code == 0, result.output
    statements = json.loads(result.stdout)["total"]["types"]["statements"]
    assert statements["tp"] >= 8 and statements["fn"] <= 2


def test_the_service_extracts_with_the_rules(tmp_path: Path):
    pytest.importorskip("fastapi", reason="needs the service extra")
    from tests.support.service_process import ServiceProcess, service_env, wait_for_job

    env = service_env("http://127.0.0.1:9/v1", EXTRACTOR_PROVIDER="rules")
    env.pop("OPENAI_API_KEY")
    service = ServiceProcess(tmp_path, env).start()
    try:
        with service.client() as api:
            single = api.post("/v1/extract", json={"id": "a1", "text": ARTICLE}).raise_for_status().json()
            assert single["meta"]["provider"] == "rules" and single["aircraft"]
            job = api.post("/v1/jobs", json={"articles": [{"id": "b1", "text": ARTICLE}]}).raise_for_status().json()
            wait_for_job(api, job["id"])
            [line] = api.get(f"/v1/jobs/{job['id']}/results").text.splitlines()
            assert json.loads(line)["statements"]
    finally:
        service.stop()


def test_a_huge_article_keeps_the_contracts_fifty_items_and_says_so():
    sentence = 'Defense Minister {name} told reporters on Friday: "Our troops will defend the border." '
    names = [f"Kim Chul-{chr(65 + i // 26)}{chr(97 + i % 26)}" for i in range(60)]
    text = "".join(sentence.format(name=name) for name in names)
    result = rules(text)
    assert len(result.statements) == 50
    [warning] = result.meta.warnings
    assert warning.startswith("the rules found 5") and warning.endswith("statements; the first 50 are kept")
