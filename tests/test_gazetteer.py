"""The gazetteer of people and bodies: sourced QIDs only, a reproducible build, unambiguous matching."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from importlib import resources
from pathlib import Path

import pytest

from extractor.postprocess import gazetteer_build
from extractor.postprocess.gazetteer import load_gazetteer
from extractor.postprocess.normalize import normalize_actor, normalize_extraction
from extractor.postprocess.people import ArticleContext
from extractor.schemas import Actor, ArticleExtraction

ROOT = Path(__file__).parents[1]
SOURCES = ROOT / "data" / "gazetteer" / "sources"


def shipped() -> dict:
    text = resources.files("extractor.postprocess").joinpath("data/gazetteer.json").read_text(encoding="utf-8")
    return json.loads(text)


# -- sourcing -------------------------------------------------------------------------------


def test_build_reproduces_the_committed_file_byte_for_byte():
    committed = resources.files("extractor.postprocess").joinpath("data/gazetteer.json").read_text(encoding="utf-8")
    assert gazetteer_build.build() == committed


def test_every_qid_comes_from_the_source_row_it_names():
    data = shipped()
    people = [p for p in data["people"] if p["qid"]]
    states = [s for s in data["states"] if s["qid"]]
    assert len(people) > 150 and len(states) > 150
    assert set(gazetteer_build.qids_in_sources()) >= {e["qid"] for e in [*people, *states]}
    for person in people:
        # the row that gives the QID names this person
        rows = (SOURCES / person["qid_source"]).read_text(encoding="utf-8").splitlines()
        names = [person["canonical_name"], *person["aliases"]]
        assert any(f",{person['qid']}," in row and any(n in row for n in names) for row in rows), person
    by_code = gazetteer_build.Builder(ROOT / "data" / "gazetteer")
    by_code.read_sources()
    assert {s["country"]: s["qid"] for s in states} == {c: q for c, (q, _) in by_code.state_qids().items()}
    # no source gives bodies QIDs: none is claimed
    assert all(a["qid"] is None for a in data["actors"])


def test_no_qid_is_typed_into_curated_files():
    curated = ROOT / "data" / "gazetteer" / "curated"
    for path in curated.iterdir():
        assert not re.findall(r"\bQ[0-9]+\b", path.read_text(encoding="utf-8")), path


def test_sources_name_repository_commit_path_and_licence():
    with (SOURCES / "sources.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows
    for row in rows:
        assert (SOURCES / row["file"]).is_file()
        assert row["repository"] and len(row["commit"]) == 40 and row["path"] and row["licence"]
    readme = (ROOT / "data" / "gazetteer" / "README.md").read_text(encoding="utf-8")
    assert all(row["repository"] in readme for row in rows)


def test_build_rejects_an_unsourced_position(tmp_path):
    import shutil

    data = tmp_path / "gazetteer"
    shutil.copytree(ROOT / "data" / "gazetteer", data)
    extra = data / "sources" / "everypolitician" / "us-cabinet.csv"
    extra.write_text(extra.read_text(encoding="utf-8") + "Court Jester,Someone,Q1,2020,,Someone\n", encoding="utf-8")
    with pytest.raises(gazetteer_build.BuildError, match="Court Jester"):
        gazetteer_build.build(data)


# -- bodies ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind", "canonical", "country", "expected_kind"),
    [
        ("the U.N. Security Council", "organization", "United Nations Security Council", None, "organization"),
        ("Taliban", "organization", "Taliban", "AFG", "armed_group"),
        ("the Red Cross", "organization", "International Red Cross and Red Crescent Movement", None, "organization"),
        (
            "South Korea's national defense ministry",
            "government",
            "Ministry of National Defense (South Korea)",
            "KOR",
            "government",
        ),
        ("Turkish", "military", "Turkish Armed Forces", "TUR", "military"),
        ("Ministry of Defense of Russia", "government", "Ministry of Defence (Russia)", "RUS", "government"),
        ("the Pakistani military", "military", "Pakistan Armed Forces", "PAK", "military"),
        ("Hezbollah", None, "Hezbollah", "LBN", "armed_group"),
        ("Houthi rebels", "organization", "Houthis", "YEM", "armed_group"),
        ("ISIS-K", "organization", "Islamic State Khorasan Province", None, "armed_group"),
        ("Xinhua", "media", "Xinhua News Agency", "CHN", "media"),
        ("Yonhap", "media", "Yonhap News Agency", "KOR", "media"),
        ("IAEA", None, "International Atomic Energy Agency", None, "organization"),
        ("North Korean authorities", "government", "Government of North Korea", "PRK", "government"),
    ],
)
def test_bodies(name, kind, canonical, country, expected_kind):
    actor = normalize_actor(Actor(name=name, kind=kind))
    assert (actor.canonical_name, actor.country, actor.kind) == (canonical, country, expected_kind)


def test_yonhap_is_not_state_media_and_kcna_is():
    media = {a["canonical_name"]: a for a in shipped()["actors"] if a["kind"] == "media"}
    assert media["Yonhap News Agency"]["state_media"] is False
    assert media["Korean Central News Agency"]["state_media"] is True


def test_names_that_need_their_context():
    un = ArticleContext("The U.N. Security Council met on Monday. The Council said ...")
    japan = ArticleContext("Japan's SDF and U.S. forces drilled.")
    assert normalize_actor(Actor(name="the Council"), context=un).canonical_name == "United Nations Security Council"
    assert normalize_actor(Actor(name="Security Council")).canonical_name is None  # whose?
    assert normalize_actor(Actor(name="SDF"), context=japan).canonical_name == "Japan Self-Defense Forces"
    both = ArticleContext("Japan's SDF ... in Syria the SDF ...")
    assert normalize_actor(Actor(name="SDF"), context=both).canonical_name is None
    # an abbreviation two bodies share names neither
    assert normalize_actor(Actor(name="AFP")).canonical_name is None


# -- people ---------------------------------------------------------------------------------

NOV_2019 = dt.date(2019, 11, 25)


def person(name, text="", published=NOV_2019, title=None, **fields):
    context = ArticleContext(text, published)
    return normalize_actor(Actor(name=name, kind="person", **fields), context=context, title=title)


@pytest.mark.parametrize(
    ("name", "canonical", "qid", "country"),
    [
        ("Donald Trump", "Donald Trump", "Q22686", "USA"),
        ("Kim Jong Un", "Kim Jong-un", "Q56226", "PRK"),
        ("Kim Jong-un", "Kim Jong-un", "Q56226", "PRK"),
        ("Sergei Lavrov", "Sergey Lavrov", "Q58217", "RUS"),
        ("Sergey Lavrov", "Sergey Lavrov", "Q58217", "RUS"),
        ("Mark Esper", "Mark Esper", "Q33190271", "USA"),
        ("Hulusi Akar", "Hulusi Akar", "Q17045790", "TUR"),
        ("Vassily Nebenzia", "Vassily Nebenzia", None, "RUS"),
        ("Vasily Nebenzya", "Vassily Nebenzia", None, "RUS"),
        ("Geng Shuang", "Geng Shuang", None, "CHN"),
        ("Zabihullah Mujahid", "Zabihullah Mujahid", None, "AFG"),
        ("Turkish Defense Minister Hulusi Akar", "Hulusi Akar", "Q17045790", "TUR"),
        ("Mevlut Cavusoglu", "Mevlüt Çavuşoğlu", "Q249206", "TUR"),
        ("Recep Tayyip Erdogan", "Recep Tayyip Erdoğan", "Q39259", "TUR"),
    ],
)
def test_people_named_in_full(name, canonical, qid, country):
    actor = person(name)
    assert (actor.canonical_name, actor.qid, actor.country, actor.kind) == (canonical, qid, country, "person")


def test_a_full_name_beginning_with_a_place_is_the_person():
    assert person("Israel Katz", published=dt.date(2025, 6, 20)).canonical_name == "Israel Katz"
    assert (
        person("Israeli Defense Minister Israel Katz", published=dt.date(2025, 6, 20)).canonical_name == "Israel Katz"
    )


def test_a_surname_needs_the_full_name_in_the_article():
    text = "Turkish Defense Minister Hulusi Akar reiterated Ankara's stance. Akar said ..."
    assert person("Akar", text).canonical_name == "Hulusi Akar"
    assert person("Akar", "Akar said the system is no threat.").canonical_name is None


def test_surname_with_title_and_country_names_the_office_holder():
    assert person("Akar", "Akar said", country="TUR", title="Defense Minister").canonical_name == "Hulusi Akar"
    # Akar was no longer minister in 2024
    later = person("Akar", "Akar said", published=dt.date(2024, 2, 1), country="TUR", title="Defense Minister")
    assert later.canonical_name is None


def test_trump_alone_only_in_his_terms_and_only_if_no_other_trump():
    assert person("Trump", "Trump said on Monday").canonical_name == "Donald Trump"
    assert person("Trump", "Trump said", published=dt.date(2023, 5, 1)).canonical_name is None
    assert person("Trump", "Trump said", published=dt.date(2025, 3, 1)).canonical_name == "Donald Trump"
    assert person("Trump", "Eric Trump and Trump said").canonical_name is None
    assert person("Trump", "U.S. President Donald Trump met Kim. Trump said").canonical_name == "Donald Trump"


def test_kim_alone_never():
    text = "North Korean leader Kim Jong Un asked for relief. Kim said ..."
    assert person("Kim", text).canonical_name is None
    assert person("Kim Jong Un", text).canonical_name == "Kim Jong-un"


def test_an_office_needs_a_country():
    assert person("the defense minister").canonical_name is None
    assert person("Turkey's defense minister").canonical_name == "Hulusi Akar"
    assert person("Turkey's defense minister", published=dt.date(2024, 1, 10)).canonical_name == "Yaşar Güler"
    assert person("the U.N. secretary-general").canonical_name == "António Guterres"
    # on a handover day the office does not say who
    assert person("U.S. President", published=dt.date(2021, 1, 20)).canonical_name is None
    assert person("U.S. President", published=dt.date(2021, 1, 25)).canonical_name == "Joe Biden"


def test_contradicting_title_or_country_leaves_it_unmatched():
    assert person("President Lavrov", "Sergey Lavrov spoke").canonical_name is None
    assert person("Hulusi Akar", country="USA").canonical_name is None
    assert person("Robert Wood", country="GBR").canonical_name is None


def test_unknown_people_stay_as_written():
    actor = person("Mesut Casin", "said Professor Mesut Casin")
    assert actor == Actor(name="Mesut Casin", kind="person")


def test_normalization_reads_the_article_text():
    text = (
        "Turkish F-16 jets flew low Monday. Turkish Defense Minister Hulusi Akar reiterated Ankara's stance. "
        '"It will operate independently," Akar said.'
    )
    extraction = ArticleExtraction.model_validate(
        {
            "article": {"id": "t", "sha256": "0" * 64, "chars": len(text), "published": "2019-11-25"},
            "exercises": [
                {
                    "description": "F-16 flights",
                    "kind": "air",
                    "status": "ongoing",
                    "participants": [{"name": "Turkish", "kind": "military"}],
                    "aircraft": ["F-16"],
                    "evidence": [{"quote": "Turkish F-16 jets flew low Monday."}],
                }
            ],
            "aircraft": [
                {
                    "designation": "F-16",
                    "mention": "Turkish F-16 jets",
                    "operator": {"name": "Turkish", "kind": "military"},
                    "evidence": [{"quote": "Turkish F-16 jets"}],
                }
            ],
            "statements": [
                {
                    "speaker": {"name": "Akar", "kind": "person"},
                    "summary": "Akar said the S-400 will operate independently.",
                    "stance": "neutral",
                    "evidence": [{"quote": "Akar said"}],
                }
            ],
            "meta": {
                "provider": "t",
                "model": "m",
                "prompt_version": "1",
                "fingerprint": "f",
                "extracted_at": "2025-01-01T00:00:00Z",
            },
        }
    )
    result = normalize_extraction(extraction, text=text)
    assert result.statements[0].speaker.canonical_name == "Hulusi Akar"
    assert result.aircraft[0].operator.canonical_name == "Turkish Air Force"
    assert result.exercises[0].participants[0].canonical_name == "Turkish Air Force"
    # without the text, "Akar" alone is nobody in particular
    assert normalize_extraction(extraction).statements[0].speaker.canonical_name is None


def test_gazetteer_covers_the_states_of_defence_news():
    gaz = load_gazetteer()
    g20_nato = "ARG AUS BRA CAN CHN FRA DEU IND IDN ITA JPN KOR MEX RUS SAU ZAF TUR GBR USA ALB BEL BGR HRV CZE DNK EST"
    more = "FIN GRC HUN LVA LTU LUX MNE NLD MKD NOR POL PRT ROU SVK SVN ESP SWE PRK IRN ISR UKR TWN ARE QAT KWT BHR OMN PAK"
    for code in f"{g20_nato} {more}".split():
        assert (code, "armed_forces") in gaz.bodies, code
        assert (code, "government") in gaz.bodies, code
    for code in "USA CHN RUS JPN KOR PRK TUR GBR FRA DEU IND PAK ISR IRN UKR TWN".split():
        assert (code, "defence_ministry") in gaz.bodies and (code, "foreign_ministry") in gaz.bodies, code


@pytest.mark.parametrize(
    ("name", "published", "canonical"),
    [
        ("the Russian president", dt.date(2023, 5, 1), "Vladimir Putin"),  # the office titled so, not the premier
        ("Russian Prime Minister", dt.date(2023, 5, 1), "Mikhail Mishustin"),
        ("UK Defence Secretary", dt.date(2023, 5, 1), "Ben Wallace"),  # British spelling
        ("Pentagon press secretary Pat Ryder", dt.date(2023, 5, 1), "Pat Ryder"),
        ("Russian Foreign Ministry spokeswoman Maria Zakharova", dt.date(2023, 5, 1), "Maria Zakharova"),
        ("Hezbollah leader Hassan Nasrallah", dt.date(2023, 5, 1), "Hassan Nasrallah"),
        ("NATO Secretary-General", dt.date(2025, 3, 1), "Mark Rutte"),
    ],
)
def test_names_with_their_office_in_front(name, published, canonical):
    assert person(name, published=published).canonical_name == canonical


def test_a_misspelt_first_name_with_its_office():
    text = "Canadian Foreign Minister Malie Joly said"
    actor = person("Malie Joly", text, published=dt.date(2025, 3, 14), title="Canadian Foreign Minister")
    assert actor.canonical_name == "Mélanie Joly"
    # without the office, an unknown first name is someone else
    assert person("Malie Joly", text, published=dt.date(2025, 3, 14)).canonical_name is None
