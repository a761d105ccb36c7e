"""The contract models accept the gold files and reject bad data."""

from __future__ import annotations

import copy
import json

import pytest
from pydantic import ValidationError

from extractor.schemas import SCHEMA_VERSION, Actor, ActorDraft, ArticleExtraction, ExtractionDraft
from extractor.schemas.common import LONG_TEXT
from tests.support.paths import GOLD  # noqa: E402

GOLD_FILES = sorted(GOLD.glob("*.json"))
META = {
    "provider": "replay",
    "model": "gpt-4o-mini",
    "prompt_version": "1",
    "fingerprint": "f" * 32,
    "extracted_at": "2026-01-01T00:00:00Z",
}


def strip_annotations(value):
    if isinstance(value, dict):
        return {k: strip_annotations(v) for k, v in value.items() if not k.startswith("_")}
    if isinstance(value, list):
        return [strip_annotations(v) for v in value]
    return value


@pytest.fixture(params=GOLD_FILES, ids=lambda p: p.stem)
def gold(request) -> dict:
    document = strip_annotations(json.loads(request.param.read_text(encoding="utf-8")))
    document["meta"] = dict(META)
    return document


def test_gold_files_are_present():
    assert any(p.stem == "000_dc08afd2001463f6" for p in GOLD_FILES)


def test_contract_accepts_gold(gold):
    extraction = ArticleExtraction.model_validate(gold)
    assert extraction.schema_version == "1.2"  # the gold files are annotated under contract 1.2
    assert len(extraction.exercises) + len(extraction.aircraft) + len(extraction.statements) > 0
    assert json.loads(extraction.model_dump_json())["article"]["sha256"] == gold["article"]["sha256"]


def _seed_gold() -> dict:
    document = strip_annotations(json.loads((GOLD / "000_dc08afd2001463f6.json").read_text()))
    document["meta"] = dict(META)
    return document


@pytest.mark.parametrize(
    "mutate, field",
    [
        (lambda d: d["exercises"][0].update(kind="underwater"), "kind"),
        (lambda d: d["aircraft"][0].update(role="spaceship"), "role"),
        (lambda d: d["statements"][0].update(stance="angry"), "stance"),
        (lambda d: d["exercises"][0]["participants"][0].update(country="XXX"), "country"),
        (lambda d: d["exercises"][0]["participants"][0].update(country="US"), "country"),
        (lambda d: d["aircraft"][0].update(evidence=[]), "evidence"),
        (lambda d: d["aircraft"][0].pop("evidence"), "evidence"),
        (lambda d: d["statements"][0].update(summary="x" * (LONG_TEXT + 1)), "summary"),
        (lambda d: d["exercises"][0].update(start_date="next Tuesday"), "start_date"),
        (lambda d: d["exercises"][0].update(start_date="2025-07-12", end_date="2025-07-11"), "end_date"),
        (lambda d: d["aircraft"].extend([copy.deepcopy(d["aircraft"][0])] * 60), "aircraft"),
        (lambda d: d["aircraft"][0].update(invented_field=1), "invented_field"),
        (lambda d: d.update(schema_version="2"), "schema_version"),
    ],
)
def test_contract_rejects_bad_data(mutate, field):
    document = _seed_gold()
    mutate(document)
    with pytest.raises(ValidationError) as caught:
        ArticleExtraction.model_validate(document)
    assert field in str(caught.value)


def test_country_codes_are_checked_strictly_in_the_contract():
    assert Actor(name="Japan", country="jpn").country == "JPN"
    with pytest.raises(ValidationError):
        Actor(name="Atlantis", country="ATL")


def test_model_side_country_is_resolved_or_nulled_never_guessed():
    draft = ExtractionDraft.model_validate(
        {
            "aircraft": [
                {
                    "designation": "F-2",
                    "mention": "F-2s",
                    "operator": {"name": "JASDF", "country": "JP"},
                    "evidence": [{"quote": "q"}],
                },
                {
                    "designation": "F-16",
                    "mention": "F-16s",
                    "operator": {"name": "X", "country": "Atlantis"},
                    "evidence": [{"quote": "q"}],
                },
                {
                    "designation": "F-15",
                    "mention": "F-15s",
                    "operator": {"name": "ROKAF", "country": "South Korea"},
                    "evidence": [{"quote": "q"}],
                },
            ]
        }
    )
    assert [a.operator.country for a in draft.aircraft] == ["JPN", None, "KOR"]


def test_json_schema_export_names_the_contract():
    schema = ArticleExtraction.model_json_schema()
    assert set(schema["properties"]) >= {"schema_version", "article", "exercises", "aircraft", "statements", "meta"}
    evidence = schema["$defs"]["Evidence"]["properties"]
    assert set(evidence) >= {"quote", "start", "end", "match"}


def test_armed_group_is_an_actor_kind():
    # Contract 1.2: non-state armed groups are no longer squeezed into "organization".
    assert Actor(name="Taliban", kind="armed_group").kind == "armed_group"
    assert ActorDraft(name="al-Shabab", kind="armed_group").kind == "armed_group"
    with pytest.raises(ValidationError):
        Actor(name="Taliban", kind="militia")


def test_new_results_say_1_2_and_results_of_1_0_and_1_1_still_validate():
    document = _seed_gold()
    assert ArticleExtraction.model_validate(document).schema_version == SCHEMA_VERSION == "1.2"
    document.pop("schema_version")
    assert ArticleExtraction.model_validate(document).schema_version == "1.2"
    document["schema_version"] = "1"  # what 1.0 and 1.1 results carry
    assert ArticleExtraction.model_validate(document).schema_version == "1"
