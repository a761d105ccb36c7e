"""A page's main text and metadata, feeds and sitemaps, and near-duplicate stories."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import sys

import pytest

from extractor import InputError
from extractor.input.article import load_article
from extractor.input.dedupe import MAX_DISTANCE, distance, simhash
from extractor.input.feeds import inflate, parse_feed, parse_sitemap
from extractor.input.html import clean_url, fallback_note, read_page
from extractor.testing.news_site import MOST_READ, TEASERS, Site, news_page, rss, sitemap
from tests.support.paths import CORPUS

SITE = Site("The Pacific Herald", "https://herald.example")
PARAGRAPHS = [
    "Two U.S. B-52 bombers flew over the Korean Peninsula on Friday with South Korean F-15K fighters.",
    "North Korea's KCNA condemned the flight on Saturday as a reckless provocation.",
    "The Japanese Air Self-Defense Force sent two F-2 fighters to escort the bombers over the sea.",
]


def page(**changes) -> str:
    return news_page(SITE, "/world/b52", "Bombers fly over the peninsula", PARAGRAPHS, **changes)


def test_main_text_is_the_story_without_the_sites_boilerplate():
    article = read_page(page(), url="https://herald.example/world/b52?utm_source=rss")
    assert article.method == "trafilatura"
    assert article.text == "\n".join(PARAGRAPHS)
    for boilerplate in (
        "cookies",
        "Subscribe",
        "Most read",
        MOST_READ[0],
        TEASERS[0][0],
        TEASERS[0][1],
        "©",
        "Breaking",
    ):
        assert boilerplate not in article.text


def test_metadata_from_the_page():
    article = read_page(page(), url="https://herald.example/world/b52?utm_source=rss&fbclid=x")
    assert article.title == "Bombers fly over the peninsula"
    assert article.published == dt.date(2025, 7, 14)
    assert article.url == "https://herald.example/world/b52"  # the canonical link
    assert (article.site_name, article.author) == ("The Pacific Herald", "Jane Park")


def _head(*tags: str) -> str:
    body = "".join(f"<p>{paragraph}</p>" for paragraph in PARAGRAPHS)
    return f"<html><head>{''.join(tags)}</head><body><article>{body}</article></body></html>"


LD = '<script type="application/ld+json">{"@context": "https://schema.org", "@graph": [{"@type": "WebSite", "name": "x"}, {"@type": ["NewsArticle"], "headline": "LD headline", "datePublished": "2025-03-02T10:00:00Z", "author": {"name": "A. Writer"}, "publisher": {"@type": "Organization", "name": "LD Times"}}]}</script>'


@pytest.mark.parametrize(
    "tags, title",
    [
        (['<meta property="og:title" content="OG title">', LD, "<title>Tag title | LD Times</title>"], "OG title"),
        ([LD, "<title>Tag title | LD Times</title>"], "LD headline"),
        (['<meta property="og:site_name" content="Daily">', "<title>Tag title | Daily</title>"], "Tag title"),
        (["<title>Tag title - Somewhere else</title>"], "Tag title - Somewhere else"),
    ],
)
def test_title_precedence(tags, title):
    assert read_page(_head(*tags)).title == title


@pytest.mark.parametrize(
    "tags, published",
    [
        (['<meta property="article:published_time" content="2025-07-14T23:30:00-04:00">', LD], dt.date(2025, 7, 14)),
        ([LD], dt.date(2025, 3, 2)),
        (['<meta itemprop="datePublished" content="2025-01-05">'], dt.date(2025, 1, 5)),
        ([], None),  # no date in the metadata: none is guessed, not even from the year in a footer
    ],
)
def test_published_precedence(tags, published):
    assert read_page(_head(*tags) + "<footer>© 2025</footer>").published == published


def test_published_from_a_time_element_inside_the_article():
    markup = _head().replace(
        "<article>",
        '<nav><time datetime="2030-01-01">today</time></nav><article><time datetime="2025-06-30T08:00">June 30</time>',
    )
    assert read_page(markup).published == dt.date(2025, 6, 30)


def test_site_name_and_author_from_json_ld():
    article = read_page(_head(LD))
    assert (article.site_name, article.author) == ("LD Times", "A. Writer")


def test_canonical_resolution_and_tracking_parameters():
    relative = _head('<link rel="canonical" href="/story/1?utm_campaign=x#top">')
    assert read_page(relative, url="https://a.example/amp/story/1").url == "https://a.example/story/1"
    assert (
        read_page(_head(), url="https://A.example:443/s?id=3&gclid=9&utm_medium=social").url
        == "https://a.example/s?id=3"
    )
    assert read_page(_head()).url is None
    assert clean_url("http://x.example:80/p?mc_cid=1&b=2&fbclid=3") == "http://x.example/p?b=2"


def test_html_file_and_json_record_with_html_are_read_as_pages(tmp_path):
    path = tmp_path / "story.html"
    path.write_text(page(), encoding="utf-8")
    article = load_article(path)
    assert article.text == "\n".join(PARAGRAPHS)
    assert (article.id, article.title, article.published) == (
        "story",
        "Bombers fly over the peninsula",
        dt.date(2025, 7, 14),
    )
    record = tmp_path / "record.json"
    record.write_text(json.dumps({"id": "r1", "title": "Given title", "text": page()}), encoding="utf-8")
    from_record = load_article(record)
    assert (from_record.id, from_record.title, from_record.text) == ("r1", "Given title", "\n".join(PARAGRAPHS))
    assert from_record.url == "https://herald.example/world/b52"
    assert from_record.header().site_name == "The Pacific Herald"


def test_text_with_a_tag_in_it_is_not_taken_for_a_page(tmp_path):
    record = tmp_path / "record.json"
    record.write_text(json.dumps({"text": "Use <b> for bold, the guide says."}), encoding="utf-8")
    assert load_article(record).text == "Use <b> for bold, the guide says."


def test_without_trafilatura_pages_are_stripped_of_tags_with_one_note(monkeypatch):
    monkeypatch.setitem(sys.modules, "trafilatura", None)  # import trafilatura now raises ImportError
    fallback_note()  # forget any earlier use
    article = read_page(page())
    assert article.method == "tags"
    assert PARAGRAPHS[0] in article.text and MOST_READ[0] in article.text  # boilerplate stays
    assert article.title == "Bombers fly over the peninsula" and article.published == dt.date(2025, 7, 14)
    read_page(page())
    assert "pip install 'extractor[news]'" in fallback_note()
    assert fallback_note() is None


def test_rss_atom_and_rdf_feeds():
    items = [
        ("https://a.example/1", "One", "Mon, 14 Jul 2025 09:00:00 GMT"),
        ("/2", "Two", "Tue, 15 Jul 2025 10:00:00 +0900"),
    ]
    entries = parse_feed(rss("Wire", items).encode(), base_url="https://a.example/feed")
    assert [(e.url, e.title, e.published) for e in entries] == [
        ("https://a.example/1", "One", dt.date(2025, 7, 14)),
        ("https://a.example/2", "Two", dt.date(2025, 7, 15)),
    ]
    atom = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>W</title>
    <entry><title>A</title><link rel="self" href="/self"/><link href="https://b.example/a"/><published>2025-07-01T00:00:00Z</published></entry>
    <entry><title>No link</title></entry></feed>"""
    assert [(e.url, e.title, e.published) for e in parse_feed(atom, base_url="https://b.example/")] == [
        ("https://b.example/a", "A", dt.date(2025, 7, 1))
    ]
    rdf = b"""<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
    <channel><title>C</title></channel><item><title>R</title><link>https://c.example/r</link><dc:date>2025-02-03</dc:date></item></rdf:RDF>"""
    assert [(e.url, e.published) for e in parse_feed(rdf, base_url="")] == [
        ("https://c.example/r", dt.date(2025, 2, 3))
    ]


@pytest.mark.parametrize(
    "body, message",
    [
        (b"<rss><channel><item><title>cut off", r"not well-formed XML \(line 1"),
        (b"<html><body>Not a feed</body></html>", "<html> is not RSS or Atom"),
        (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><rss>&a;</rss>', "declares entities"),
        (b"", "not well-formed"),
    ],
)
def test_malformed_feeds_are_input_errors(body, message):
    with pytest.raises(InputError, match=message):
        parse_feed(body, base_url="https://a.example/")


def test_sitemaps_news_sitemaps_and_indexes():
    news = parse_sitemap(sitemap(["https://a.example/1", "https://a.example/2"], news=True).encode(), base_url="")
    assert [(e.url, e.title, e.published) for e in news.entries][0] == (
        "https://a.example/1",
        "From the news sitemap",
        dt.date(2025, 7, 14),
    )
    index = parse_sitemap(
        sitemap(["https://a.example/s1.xml", "/s2.xml.gz"], index=True).encode(), base_url="https://a.example/"
    )
    assert (index.entries, index.sitemaps) == ([], ["https://a.example/s1.xml", "https://a.example/s2.xml.gz"])
    with pytest.raises(InputError, match="not a urlset or sitemapindex"):
        parse_sitemap(b"<rss/>", base_url="")


def test_gzipped_sitemaps_inflate_within_the_cap():
    body = sitemap(["https://a.example/1"]).encode()
    assert inflate(gzip.compress(body), limit=10_000, what="sitemap") == body
    with pytest.raises(InputError, match="inflates past the 1,000-byte limit"):
        inflate(gzip.compress(b"<" + b" " * 5_000_000), limit=1_000, what="sitemap")


def test_simhash_finds_one_wire_story_under_different_outlets_and_tells_stories_apart():
    story = (CORPUS / "voa-6180015.txt").read_text(encoding="utf-8")
    other = (CORPUS / "voa-6183227.txt").read_text(encoding="utf-8")
    first, *rest = story.split("\n")
    rewritten = "SEOUL (Wire) — " + first + "\n" + "\n".join(rest[:-1]) + "\nThe Courier contributed to this report."
    assert distance(simhash(story), simhash(rewritten)) <= MAX_DISTANCE
    assert distance(simhash(story), simhash(other)) > 3 * MAX_DISTANCE
    assert simhash("Too short to say anything.") is None
