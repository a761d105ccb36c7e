"""Evaluation against gold: matching, P/R/F1, key fields, grounding figures, CLI."""

from __future__ import annotations

import copy
import json
import shutil

import pytest
from _evalkit import GOLD_DIR, SEED_STEM, article_text, as_extraction, gold, seed_text
from typer.testing import CliRunner

from extractor import Extractor
from extractor.cli import app
from extractor.evaluation import run_eval, score_article
from extractor.evaluation.score import match_items
from tests.support.paths import FIXTURES, SEEDS


@pytest.mark.parametrize("stem", sorted(path.stem for path in GOLD_DIR.glob("*.json")))
def test_replayed_pipeline_scores_perfectly_against_gold(stem):
    """The repository's fixtures replayed through grounding and normalization match the gold exactly."""
    text = article_text(stem)
    predicted = Extractor(provider="replay", fixtures_dir=FIXTURES).extract(text, article_id=stem)
    score = score_article(gold(stem), predicted.model_dump(mode="json"), text).as_dict()
    assert score["overall"]["f1"] == 1.0
    assert all(t["fp"] == 0 and t["fn"] == 0 for t in score["types"].values())
    assert score["fields"] and all(f["accuracy"] == 1.0 for f in score["fields"].values())
    assert score["grounding_rate"] == 1.0 and score["dropped_ungrounded"] == 0


def perturbed() -> dict:
    """Seed gold with hand-made errors; expected figures worked out in the test below."""
    doc = copy.deepcopy(gold())
    # The first entry of a type: gold 1.2 also has B-52s and a B-1B at other places (optional).
    by_designation = {a["designation"]: a for a in reversed(doc["aircraft"])}
    doc["aircraft"] = [
        a for a in doc["aircraft"] if a["designation"] not in ("F-15", "B-2")
    ]  # miss F-15 (req), B-2 (opt)
    by_designation["B-52"]["count"] = 3  # wrong count
    doc["aircraft"].append(
        {
            **by_designation["B-1B"],
            "designation": "F-22",
            "mention": "F-22s",
            "evidence": [{"quote": "F-22 Raptors escorted", "start": None, "end": None, "match": None}],
        }
    )  # spurious and ungrounded
    doc["exercises"] = [e for e in doc["exercises"] if e["date_text"] not in ("January", "June")]  # miss 2 required
    doc["statements"][0]["stance"] = "criticize"  # wrong stance on the USAF statement
    doc["statements"][3]["date_text"] = "Jul. 11"  # Lavrov spoke on Jul. 12
    doc["statements"][2]["date_text"] = None  # agrees with gold: the Trump statement is undated
    doc["meta"] = {"warnings": ["dropped statement 'X': evidence not found: 'y'", "article truncated"]}
    return doc


def test_perturbed_copy_scores_as_computed_by_hand():
    score = score_article(gold(), perturbed(), seed_text()).as_dict()
    types = score["types"]
    # aircraft: B-52, F-2, KF-16, B-1B found; F-15 missed; F-22 spurious; B-2 optional -> not FN;
    # the optional B-52 (Diego Garcia) and B-1B (Japan) are found and count for nothing
    assert (types["aircraft"]["tp"], types["aircraft"]["fp"], types["aircraft"]["fn"]) == (4, 1, 1)
    assert types["aircraft"]["f1"] == pytest.approx(0.8)
    # exercises: 2 of 4 required found; the two optional ones (2023, agreed annual) count for nothing
    assert (types["exercises"]["tp"], types["exercises"]["fp"], types["exercises"]["fn"]) == (2, 0, 2)
    assert types["exercises"]["precision"] == 1.0 and types["exercises"]["recall"] == 0.5
    assert types["exercises"]["f1"] == pytest.approx(2 / 3)
    assert (types["statements"]["tp"], types["statements"]["fp"], types["statements"]["fn"]) == (4, 0, 0)
    overall = score["overall"]  # TP 10, FP 1, FN 3
    assert overall["precision"] == pytest.approx(10 / 11)
    assert overall["recall"] == pytest.approx(10 / 13)
    assert overall["f1"] == pytest.approx(20 / 24)
    fields = score["fields"]
    assert (fields["aircraft.count"]["correct"], fields["aircraft.count"]["total"]) == (5, 6)
    assert fields["aircraft.designation"]["accuracy"] == 1.0
    # 8 matched statements: the 4 required and 4 optional ones (one is Kim Jong Un's share of
    # the joint statement with Lavrov)
    assert (fields["statement.stance"]["correct"], fields["statement.stance"]["total"]) == (7, 8)
    assert (fields["statement.date_text"]["correct"], fields["statement.date_text"]["total"]) == (7, 8)
    assert score["predicted_items"] == 19  # 4 exercises, 7 aircraft, 8 statements
    assert score["grounding_rate"] == pytest.approx(18 / 19)
    assert score["dropped_ungrounded"] == 1


def test_dropped_items_are_counted_from_the_notices():
    doc = perturbed()
    doc["meta"] = {
        "warnings": ["two items left out", "dropped statement 'X': evidence not found: 'y'"],
        "notices": [
            {"code": "dropped_ungrounded", "detail": "two items left out", "path": "aircraft[1]"},
            {"code": "dropped_ungrounded", "detail": "two items left out", "path": "aircraft[4]"},
            {"code": "not_aircraft", "detail": "removed aircraft 'Y': not an aircraft (gazetteer)"},
        ],
    }
    assert score_article(gold(), doc, seed_text()).as_dict()["dropped_ungrounded"] == 2


def test_ambiguous_stance_is_not_scored():
    doc = gold("voa-6183227")
    pred = copy.deepcopy(doc)
    for statement in pred["statements"]:
        if statement.get("_stance_ambiguous"):
            statement["stance"] = "threaten"
    fields = score_article(doc, pred).as_dict()["fields"]
    assert fields["statement.stance"]["accuracy"] == 1.0
    assert fields["statement.stance"]["total"] == len(doc["statements"]) - 1


def test_spellings_of_one_canonical_name_are_the_same_speaker():
    doc = gold()
    pred = copy.deepcopy(doc)
    for statement in pred["statements"]:
        name = statement["speaker"].get("canonical_name") or ""
        statement["speaker"]["canonical_name"] = name.replace("Kim Jong Un", "Kim Jong-un") or None
    assert any(s["speaker"].get("canonical_name") == "Kim Jong-un" for s in pred["statements"])
    fields = score_article(doc, pred).as_dict()["fields"]
    assert fields["statement.speaker"]["accuracy"] == 1.0


def test_optional_only_prediction_is_neither_tp_nor_fp():
    doc = gold()
    only_optional = {
        **doc,
        "exercises": [e for e in doc["exercises"] if not e["_required"]],
        "aircraft": [],
        "statements": [],
    }
    ex = score_article(doc, only_optional).as_dict()["types"]["exercises"]
    assert (ex["tp"], ex["fp"], ex["fn"]) == (0, 0, 4)


def test_cli_eval_json_with_predictions(tmp_path):
    gold_dir = tmp_path / "gold"
    gold_dir.mkdir()
    shutil.copy(GOLD_DIR / f"{SEED_STEM}.json", gold_dir)
    preds = tmp_path / "preds"
    preds.mkdir()
    (preds / f"{SEED_STEM}.json").write_text(json.dumps(perturbed()), encoding="utf-8")
    result = CliRunner().invoke(
        app, ["eval", str(gold_dir), "--predictions", str(preds), "--articles", str(SEEDS), "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["total"]["overall"]["f1"] == pytest.approx(20 / 24)
    table = CliRunner().invoke(app, ["eval", str(gold_dir), "--predictions", str(preds)])
    assert table.exit_code == 0 and "aircraft" in table.stdout and "0.800" in table.stdout


def test_run_eval_extracts_articles_found_next_to_gold(tmp_path):
    (tmp_path / "gold").mkdir()
    (tmp_path / "seeds").mkdir()
    shutil.copy(GOLD_DIR / f"{SEED_STEM}.json", tmp_path / "gold")
    shutil.copy(SEEDS / f"{SEED_STEM}.txt", tmp_path / "seeds")
    seen = []

    class FakeExtractor:
        class settings:
            max_input_bytes = 2_000_000

        def extract_article(self, article):
            seen.append(article.id)
            return as_extraction(perturbed())

    report, _ = run_eval(tmp_path / "gold", predictions=None, articles=None, extractor_factory=FakeExtractor)
    assert seen == [SEED_STEM]
    # The extractor's answer, not the gold, is what got scored: the hand-computed figure.
    assert report["total"]["overall"]["f1"] == pytest.approx(20 / 24)


def test_cli_eval_missing_gold_dir_is_usage_error(tmp_path):
    result = CliRunner().invoke(app, ["eval", str(tmp_path / "nope"), "--predictions", str(tmp_path)])
    assert result.exit_code == 2


def test_aircraft_of_one_type_pair_up_by_place():
    # Contract 1.2: one entry per type, operator and place; without evidence to tell them apart,
    # the place decides which gold entry a prediction is.
    usaf = {"name": "U.S. Air Drive", "country": "USA"}

    def b52(place):
        return {"designation": "B-52", "operator": usaf, "deployed_to": place, "evidence": []}

    gold_items = [b52("Andersen Air Force Base, Guam"), b52("Diego Garcia")]
    predicted = [b52("Diego Garcia"), b52("Guam")]
    assert match_items("aircraft", gold_items, predicted) == [(0, 1), (1, 0)]
