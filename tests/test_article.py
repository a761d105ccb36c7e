"""Loading articles from every supported form, and splitting long ones."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json

import pytest

from extractor import InputError
from extractor.article import html_to_text, load_article, make_article, split_paragraphs

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
    path.write_text(json.dumps({"id": "8011115", "title": "T", "url": "https://x", "published": "2025-03-14 20:30:26Z", "text": "Body."}))
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
    assert "\n\n" in article.text


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
