"""Loading articles from every supported form, and splitting long ones."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json

import pytest

from extractor import InputError
from extractor.input.article import load_article, make_article, split_paragraphs
from extractor.input.tags import html_to_text
from tests.support.paths import GOLD, SEEDS  # noqa: E402


def test_text_is_kept_byte_for_byte_so_gold_offsets_hold():
    path = SEEDS / "000_dc08afd2001463f6.txt"
    article = load_article(path)
    gold = json.loads((GOLD / "000_dc08afd2001463f6.json").read_text())
    assert article.sha256 == gold["article"]["sha256"]
    assert len(article.text) == gold["article"]["chars"]
    header = article.header()
    assert header.id == "000_dc08afd2001463f6" and header.published is None
    for aircraft in gold["aircraft"]:
        for evidence in aircraft["evidence"]:
            assert article.text[evidence["start"] : evidence["end"]] == evidence["quote"]


def test_json_record_with_timestamped_published(tmp_path):
    path = tmp_path / "story.json"
    path.write_text(
        json.dumps(
            {"id": "8011115", "title": "T", "url": "https://x", "published": "2025-03-14 20:30:26Z", "text": "Body."}
        )
    )
    article = load_article(path)
    assert (article.id, article.title, article.published) == ("8011115", "T", dt.date(2025, 3, 14))


def test_json_without_id_takes_the_file_stem(tmp_path):
    path = tmp_path / "voa-1.json"
    path.write_text(json.dumps({"text": "Body."}))
    assert load_article(path).id == "voa-1"


def test_html_tags_scripts_and_entities_are_stripped(tmp_path):
    path = tmp_path / "page.html"
    path.write_text(
        "<html><head><title>Drills</title><script>var x = 1;</script><style>p{}</style></head>"
        "<body><p>B-52s flew &amp; F-2s escorted.</p><p>Second&nbsp;paragraph.</p></body></html>"
    )
    article = load_article(path)
    assert article.title == "Drills"
    assert "B-52s flew & F-2s escorted." in article.text
    assert "var x" not in article.text and "<p>" not in article.text
    assert article.text.split("\n") == ["B-52s flew & F-2s escorted.", "Second paragraph."]  # one paragraph a line


def test_stdin_text_and_json():
    article = load_article("-", stdin=io.BytesIO(b"Plain text from stdin."))
    assert article.text == "Plain text from stdin." and article.id is None
    assert article.header().id == "sha256-" + hashlib.sha256(b"Plain text from stdin.").hexdigest()[:16]
    record = load_article("-", stdin=io.BytesIO(b'{"id": "s1", "text": "From JSON."}'))
    assert (record.id, record.text) == ("s1", "From JSON.")


def test_api_rejects_non_text():
    with pytest.raises(InputError):
        make_article(b"bytes")  # type: ignore[arg-type]
    with pytest.raises(InputError):
        make_article("a\x00b")
    with pytest.raises(InputError):
        make_article("x" * 20, max_bytes=10)


def test_split_keeps_paragraphs_whole_and_offsets_exact():
    paragraphs = [f"Paragraph {i} " + "word " * (50 + 10 * i) for i in range(8)]
    text = "\n\n".join(paragraphs)
    pieces = split_paragraphs(text, 800)
    assert len(pieces) > 1
    for offset, piece in pieces:
        assert text[offset : offset + len(piece)] == piece
        assert len(piece) <= 800
    rebuilt = "".join(piece for _, piece in pieces)
    assert rebuilt.replace("\n", "") == text.replace("\n", "")


def test_split_cuts_an_oversized_paragraph_on_sentences():
    text = "This is a sentence. " * 200
    pieces = split_paragraphs(text, 500)
    assert all(len(piece) <= 500 for _, piece in pieces)
    assert all(piece.rstrip().endswith(".") for _, piece in pieces[:-1])


def test_short_text_is_one_piece():
    assert split_paragraphs("short", 100) == [(0, "short")]


def test_html_helper_collapses_whitespace():
    text, title = html_to_text("<div>a   b</div>\n\n\n<div>c</div>")
    assert text == "a b\n\n\nc".replace("\n\n\n", "\n\n") and title is None


BODY = "Two B-52 bombers flew over the peninsula on Friday.\nKCNA condemned the flight.\n"


@pytest.mark.parametrize(
    "header",
    [
        "Title: Bombers over the peninsula\nPublished: 2025-03-14\nURL: https://example.org/b52\n\n",
        "title: Bombers over the peninsula\nDATE: March 14, 2025\nurl: https://example.org/b52\n\n",
        '---\ntitle: "Bombers over the peninsula"\nlayout: post\npublished: 2025-03-14 20:30:26Z\nurl: https://example.org/b52\ntags:\n  - air\n---\n',
    ],
    ids=["header-lines", "header-lines-written-date", "front-matter"],
)
@pytest.mark.parametrize("suffix", [".txt", ".md"])
def test_plain_text_metadata_fills_the_article_and_is_not_text(tmp_path, header, suffix):
    path = tmp_path / f"story{suffix}"
    path.write_text(header + BODY, encoding="utf-8")
    article = load_article(path)
    assert article.text == BODY  # offsets index the body, not the header
    assert (article.title, article.url, article.published) == (
        "Bombers over the peninsula",
        "https://example.org/b52",
        dt.date(2025, 3, 14),
    )
    assert article.id == "story"


def test_metadata_lets_relative_statement_dates_resolve(tmp_path):
    from _evalkit import make

    from extractor.postprocess.normalize import normalize_extraction

    path = tmp_path / "story.txt"
    path.write_text("Published: 2025-03-14\n\n" + BODY, encoding="utf-8")
    article = load_article(path)
    statement = {
        "speaker": {"name": "KCNA"},
        "summary": "s",
        "stance": "criticize",
        "date_text": "Friday",
        "evidence": [{"quote": "KCNA condemned the flight."}],
    }
    result = normalize_extraction(make(article.text, statements=[statement], published=article.published))
    assert result.statements[0].date == dt.date(2025, 3, 14)


@pytest.mark.parametrize(
    "text",
    [
        "Washington: the Pentagon said on Friday that bombers flew.\n\nMore text.",  # not a known key
        "Title: only a title line and no body after it",  # no blank line: not a header
        "Two B-52 bombers flew.\nTitle: a line later in the text\n\nMore.",  # not at the start
        "---\nA paragraph between two rules: not front matter.\n---\nMore text.",  # Markdown rules
    ],
)
def test_text_without_a_header_is_kept_whole(tmp_path, text):
    path = tmp_path / "story.txt"
    path.write_text(text, encoding="utf-8")
    article = load_article(path)
    assert article.text == text and article.title is None and article.published is None


def test_unknown_published_is_null_and_a_bad_one_is_an_input_error(tmp_path):
    path = tmp_path / "story.txt"
    path.write_text("Title: T\nPublished: unknown\n\n" + BODY, encoding="utf-8")
    article = load_article(path)
    assert (article.title, article.published, article.text) == ("T", None, BODY)
    path.write_text("Published: last spring\n\n" + BODY, encoding="utf-8")
    with pytest.raises(InputError, match="Published: 'last spring' is not a date"):
        load_article(path)


def test_repository_articles_have_no_header():
    # The seed and corpus files start with the story itself: nothing may be taken for a header.
    from tests.support.paths import CORPUS

    for path in [SEEDS / "000_dc08afd2001463f6.txt", *sorted(CORPUS.glob("*.txt"))]:
        assert load_article(path).text == path.read_text(encoding="utf-8")
