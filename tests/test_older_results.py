"""Results written before contract 1.2 still load: every reader takes a stored 1.1 result.

`tests/data/contract-1.1/000_dc08afd2001463f6.json` is what the extractor wrote for the seed
with prompt v2 (contract 1.1, `"schema_version": "1"`), replayed from the v2 fixtures.
"""

from __future__ import annotations

import json
import shutil

from extractor.evaluation import run_eval
from extractor.events import merge, read_results
from extractor.output.results import load_results
from extractor.review.build import build_review
from extractor.schemas import SCHEMA_VERSION, ArticleExtraction
from tests.support.paths import GOLD, ROOT, SEEDS

OLD = ROOT / "tests" / "data" / "contract-1.1" / "000_dc08afd2001463f6.json"


def test_the_stored_result_is_one_of_contract_1_1():
    document = json.loads(OLD.read_text(encoding="utf-8"))
    assert document["schema_version"] == "1" and document["meta"]["prompt_version"] == "2"
    assert SCHEMA_VERSION == "1.2"


def test_the_contract_models_read_it():
    extraction = ArticleExtraction.model_validate_json(OLD.read_text(encoding="utf-8"))
    assert extraction.schema_version == "1"
    assert [a.designation for a in extraction.aircraft][:2] == ["B-52", "F-2"]


def test_the_results_reader_and_review_read_it():
    [result] = load_results(OLD)
    assert result["article"]["id"] == "000_dc08afd2001463f6" and len(result["statements"]) == 5
    page = build_review(OLD, article=SEEDS / "000_dc08afd2001463f6.txt")
    assert "B-52" in page and "Sergey Lavrov" in page


def test_evaluation_scores_it_against_the_1_2_gold(tmp_path):
    predictions = tmp_path / "predictions"
    predictions.mkdir()
    shutil.copy(OLD, predictions / OLD.name)
    gold = tmp_path / "gold"
    gold.mkdir()
    shutil.copy(GOLD / OLD.name, gold / OLD.name)
    report, _ = run_eval(gold, predictions=predictions, articles=SEEDS)
    # 1.2 only added optional items to this gold file: the 1.1 answers still find every required one.
    assert report["total"]["overall"]["recall"] == 1.0 and report["total"]["overall"]["precision"] == 1.0


def test_events_read_and_merge_it(tmp_path):
    jsonl = tmp_path / "results.jsonl"
    jsonl.write_text(json.dumps(json.loads(OLD.read_text(encoding="utf-8"))) + "\n", encoding="utf-8")
    [extraction] = read_results([jsonl])
    assert extraction.schema_version == "1"
    events = merge([extraction])
    assert events and any(e.type == "statement" for e in events)
