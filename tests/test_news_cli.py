"""News in from the command line: URLs, URL lists, JSONL records, feeds and sitemaps served on loopback."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from extractor.cli import app
from extractor.input.block import article_in_messages
from extractor.jobs.store import open_reader
from extractor.testing.faultserver import FaultServer
from extractor.testing.news_site import NewsSite, Route, endless, news_page, rss, sitemap
from tests.support.paths import FIXTURES, SEEDS

SEED = SEEDS / "000_dc08afd2001463f6.txt"
SEED_PARAGRAPHS = [line for line in SEED.read_text(encoding="utf-8").split("\n") if line.strip()]
FETCH_ENV = {"EXTRACTOR_FETCH_RATE": "1000", "EXTRACTOR_FETCH_RETRIES": "0", "EXTRACTOR_FETCH_TIMEOUT": "5"}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    for name in list(__import__("os").environ):
        if name.startswith(("EXTRACTOR_", "OPENAI_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def run(*args: str, env: dict | None = None):
    return CliRunner().invoke(app, [str(arg) for arg in args], env={**FETCH_ENV, **(env or {})})


def live(server) -> list[str]:
    return ["--provider", "openai", "--base-url", server.base_url, "--fixtures-mode", "off"]


LIVE_ENV = {"OPENAI_API_KEY": "sk-test"}


def rows(db: Path) -> dict[str, object]:
    reader = open_reader(db)
    try:
        return {row.source: row for row in reader.rows()}
    finally:
        reader.close()


def results(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


# -- the seed article, wrapped in a news site ---------------------------------------------


def test_a_page_around_the_seed_article_extracts_the_seed_items_with_the_pages_metadata():
    with NewsSite() as site, authored_answer() as model:
        herald = site.site("The Pacific Herald")
        markup = news_page(
            herald,
            "/asia/b52-escort",
            "B-52s fly with Japanese and Korean jets",
            SEED_PARAGRAPHS,
            published="2025-07-12T06:00:00+09:00",
            author="Guy Plopsky",
        )
        site.routes["/asia/b52-escort"] = Route(markup.encode())
        options = [*live(model), "--model", "gpt-4o-mini"]
        from_file = run("extract", SEED, *options, env=LIVE_ENV)
        from_page = run(
            "extract", site.url("/asia/b52-escort?utm_source=twitter"), "--allow-private", *options, env=LIVE_ENV
        )
    assert from_file.exit_code == 0 and from_page.exit_code == 0, from_page.output
    seen = [article_in_messages(request.body["messages"]) for request in model.seen]
    assert seen[1] == "\n".join(SEED_PARAGRAPHS)  # the model read the story and nothing else
    file_result, page_result = json.loads(from_file.stdout), json.loads(from_page.stdout)
    article = page_result["article"]
    assert article["title"] == "B-52s fly with Japanese and Korean jets"
    assert article["published"] == "2025-07-12"
    assert article["url"] == site.url("/asia/b52-escort")
    assert (article["site_name"], article["author"]) == ("The Pacific Herald", "Guy Plopsky")
    text = "\n".join(SEED_PARAGRAPHS)

    def items(result: dict) -> dict:
        # The same items; offsets index each run's own text (the page has no blank lines).
        stripped = json.loads(json.dumps({k: result[k] for k in ("exercises", "aircraft", "statements")}))
        for kind in stripped.values():
            for item in kind:
                for evidence in item["evidence"]:
                    evidence.pop("start"), evidence.pop("end")
                item.pop("date", None), item.pop("start_date", None), item.pop("end_date", None)
        return stripped

    assert items(page_result) == items(file_result)
    assert sum(len(page_result[kind]) for kind in ("exercises", "aircraft", "statements")) >= 3
    for kind in ("exercises", "aircraft", "statements"):
        for item in page_result[kind]:
            for evidence in item["evidence"]:
                assert text[evidence["start"] : evidence["end"]] == evidence["quote"]


# -- one story, several outlets -----------------------------------------------------------

OUTLETS = ["Herald", "Courier", "Tribune"]


def authored_answer():
    """A scripted model server answering every request with the authored reference answer for the seed."""
    from extractor.testing.scripted_server import Reply, ScriptedServer

    answers = [json.loads(path.read_text()) for path in FIXTURES.glob("000_dc08afd2001463f6.*.json")]
    authored = next(answer for answer in answers if answer["meta"]["provider"] == "authored")
    return ScriptedServer([Reply(body=authored["response"]["body"])])


def wire_site(site: NewsSite) -> None:
    """Three outlets running one wire story (own notes), one story under two URLs, one story alone."""
    for name in OUTLETS:
        note = ["Updated with a statement from Pyongyang."] if name == "Courier" else []
        story = [*note, *SEED_PARAGRAPHS, f"The {name} contributed reporting from Seoul."]
        markup = news_page(site.site(name), f"/{name.lower()}/b52", f"{name}: bombers fly", story)
        site.routes[f"/{name.lower()}/b52"] = Route(markup.encode(), etag=f'"{name}"')
    other = (SEEDS.parent / "corpus" / "voa-6180015.txt").read_text(encoding="utf-8").split("\n")
    canonical = site.url("/herald/drill")
    for path in ("/herald/drill", "/amp/herald/drill"):
        markup = news_page(
            site.site("Herald"), path, "Drill", [line for line in other if line.strip()], canonical=canonical
        )
        site.routes[path] = Route(markup.encode(), etag='"drill"')
    third = (SEEDS.parent / "corpus" / "voa-6183227.txt").read_text(encoding="utf-8").split("\n")
    site.routes["/courier/other"] = Route(
        news_page(site.site("Courier"), "/courier/other", "Other", [x for x in third if x.strip()]).encode()
    )
    links = [f"/{name.lower()}/b52" for name in OUTLETS] + ["/herald/drill", "/amp/herald/drill", "/courier/other"]
    feed = rss("Wire", [(site.url(link), "t", "Mon, 14 Jul 2025 09:00:00 GMT") for link in links])
    site.routes["/feed.xml"] = Route(feed.encode(), content_type="application/rss+xml; charset=utf-8")


def test_a_feed_with_one_story_at_several_outlets_pays_one_model_call_per_story(tmp_path):
    from extractor.input.fetch_cache import stored_text

    out, db = tmp_path / "out.jsonl", tmp_path / "out.jsonl.db"
    with NewsSite() as site, authored_answer() as model:
        wire_site(site)
        options = [*live(model), "--model", "gpt-4o-mini"]
        result = run("batch", "--feed", site.url("/feed.xml"), "-o", out, "--allow-private", *options, env=LIVE_ENV)
        assert result.exit_code == 0, result.output
        asked = [article_in_messages(request.body["messages"]) for request in model.seen]
        # Three distinct stories among six URLs; the wire story is asked for once. (The other two
        # get a re-ask each: the scripted answer quotes the wire story, which is not in them.)
        assert len(set(asked)) == 3
        assert sum(1 for text in asked if SEED_PARAGRAPHS[0] in text) == 1
        outlets = {site.url(f"/{name.lower()}/b52") for name in OUTLETS}
    lines = results(out)
    assert len(lines) == 6  # every URL has its own result
    assert sum(1 for row in rows(db).values() if row.reused_from) == 3
    wire = [line for line in lines if line["article"]["url"] in outlets]
    assert len(wire) == 3 and len({line["article"]["sha256"] for line in wire}) == 3
    for line in wire:  # each copy's evidence indexes its own text
        text = stored_text(db, line["article"]["sha256"])
        spans = [
            ev for kind in ("exercises", "aircraft", "statements") for item in line[kind] for ev in item["evidence"]
        ]
        assert len(spans) >= 5 and all(text[ev["start"] : ev["end"]] == ev["quote"] for ev in spans)
    assert [len(line["aircraft"]) for line in wire] == [len(wire[0]["aircraft"])] * 3

    events = tmp_path / "events.jsonl"
    made = run("events", db, "-o", events)
    assert made.exit_code == 0, made.output
    merged = results(events)
    assert merged and all({source["url"] for source in event["sources"]} == outlets for event in merged)


def test_a_rerun_fetches_nothing_new_and_calls_no_model(tmp_path):
    out = tmp_path / "out.jsonl"
    with NewsSite() as site, FaultServer() as model:
        wire_site(site)
        args = ["batch", "--feed", site.url("/feed.xml"), "-o", out, "--allow-private", *live(model)]
        assert run(*args, env=LIVE_ENV).exit_code == 0
        calls, first_run = model.stats.requests, len(site.seen)
        again = run(*args, env=LIVE_ENV)
        assert again.exit_code == 0, again.output
        assert model.stats.requests == calls
        pages = [seen for seen in site.seen[first_run:] if seen.path not in ("/feed.xml", "/robots.txt")]
        revalidated = [seen for seen in pages if seen.path != "/courier/other"]
        assert revalidated and all(seen.status == 304 for seen in revalidated)
        assert "unchanged (304)" in again.stderr


# -- every way of naming URLs -------------------------------------------------------------


def test_urls_in_arguments_lists_jsonl_records_and_sitemaps(tmp_path):
    out = tmp_path / "out.jsonl"
    with NewsSite() as site, FaultServer() as model:
        wire_site(site)
        listing = tmp_path / "urls.txt"
        listing.write_text(f"# morning list\n{site.url('/herald/b52')}\n\n{site.url('/courier/other')}\n")
        records = tmp_path / "records.jsonl"
        records.write_text(
            json.dumps(
                {"id": "desk-1", "url": site.url("/tribune/b52"), "title": "Desk title", "published": "2025-07-20"}
            )
            + "\n"
            + json.dumps({"id": "plain", "text": "A plain record: B-52 bombers flew on Monday."})
            + "\n"
        )
        site.routes["/news.xml"] = Route(
            sitemap([site.url("/herald/drill")], news=True).encode(), content_type="application/xml"
        )
        gz = gzip.compress(sitemap([site.url("/courier/b52")]).encode())
        site.routes["/more.xml.gz"] = Route(gz, content_type="application/gzip")
        site.routes["/index.xml"] = Route(
            sitemap(["/news.xml", "/more.xml.gz"], index=True).encode(), content_type="text/xml"
        )
        result = run(
            "batch",
            site.url("/amp/herald/drill"),
            listing,
            records,
            "--sitemap",
            site.url("/index.xml"),
            "-o",
            out,
            "--allow-private",
            *live(model),
            env=LIVE_ENV,
        )
        assert result.exit_code == 0, result.output
    by_id = {line["article"]["id"]: line["article"] for line in results(out)}
    assert len(by_id) == 7
    assert by_id["desk-1"]["title"] == "Desk title" and by_id["desk-1"]["published"] == "2025-07-20"
    assert by_id["desk-1"]["site_name"] == "Tribune"
    assert by_id["plain"]["url"] is None
    urls = {article["url"] for article in by_id.values()}
    assert {
        site.url("/herald/b52"),
        site.url("/courier/other"),
        site.url("/courier/b52"),
        site.url("/herald/drill"),
    } <= urls


# -- bad input: each URL fails alone ------------------------------------------------------


def test_bad_urls_fail_one_by_one_and_the_rest_of_the_job_is_done(tmp_path):
    out = tmp_path / "out.jsonl"
    with NewsSite() as site, FaultServer() as model:
        wire_site(site)
        site.routes["/missing"] = Route(b"gone", 404, "text/plain")
        site.routes["/slow"] = Route(hang=True)
        site.routes["/report.pdf"] = Route(b"%PDF-1.7", content_type="application/pdf")
        site.routes["/huge"] = Route(endless(50_000_000))
        site.routes["/jump"] = Route(status=302, headers={"location": "http://10.20.30.40/internal"})
        site.routes["/broken.xml"] = Route(b"<rss><channel><item><title>cut", content_type="application/rss+xml")
        listing = tmp_path / "urls.txt"
        paths = ["/herald/b52", "/missing", "/slow", "/report.pdf", "/huge", "/jump", "/courier/other"]
        listing.write_text("\n".join(site.url(path) for path in paths) + "\n")
        result = run(
            "batch",
            listing,
            "--feed",
            site.url("/broken.xml"),
            "-o",
            out,
            "--allow-network",
            "127.0.0.1/32",
            *live(model),
            env={**LIVE_ENV, "EXTRACTOR_FETCH_TIMEOUT": "0.5", "EXTRACTOR_FETCH_MAX_BYTES": "1000000"},
        )
        assert result.exit_code == 4, result.output  # the job finished, with failures
        assert model.stats.requests == 2
        assert all(seen.path != "/internal" for seen in site.seen)
    assert {line["article"]["url"] for line in results(out)} == {site.url("/herald/b52"), site.url("/courier/other")}
    stored = rows(tmp_path / "out.jsonl.db")
    expected = {
        site.url("/missing"): ("fetch", "HTTP 404 Not Found"),
        site.url("/slow"): ("fetch", "timed out"),
        site.url("/report.pdf"): ("fetch", "content type application/pdf"),
        site.url("/huge"): ("fetch", "over the 1,000,000-byte limit"),
        site.url("/jump"): ("fetch", "10.20.30.40 is a private address"),
        site.url("/broken.xml"): ("input", "malformed feed: not well-formed XML"),
    }
    for where, (cause, reason) in expected.items():
        row = stored[where]
        assert (row.status, row.error_cause) == ("failed", cause), where
        assert reason in row.error_message and row.error_message.startswith(where)


def test_extract_of_a_bad_url_is_one_line_and_exit_2(tmp_path):
    with NewsSite({"/missing": Route(b"", 404, "text/plain")}) as site:
        missing = run("extract", site.url("/missing"), "--allow-private", "--provider", "replay")
        refused = run("extract", site.url("/missing"), "--provider", "replay")
        scheme = run("extract", "ftp://example.org/story", "--provider", "replay")
    for result, fragment in [
        (missing, "HTTP 404"),
        (refused, "127.0.0.1 is a loopback address"),
        (scheme, "only http"),
    ]:
        assert result.exit_code == 2, result.output
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("extractor: error: ") and fragment in lines[0]
    assert [seen.path for seen in site.seen] == ["/robots.txt", "/missing"]


# -- the text is kept: review pages show it -----------------------------------------------


def test_review_shows_the_fetched_text_from_the_job_store_or_a_saved_article(tmp_path):
    out = tmp_path / "out.jsonl"
    with NewsSite() as site, FaultServer() as model:
        wire_site(site)
        assert (
            run("batch", site.url("/herald/b52"), "-o", out, "--allow-private", *live(model), env=LIVE_ENV).exit_code
            == 0
        )
        saved = tmp_path / "story.txt"
        single = run(
            "extract",
            site.url("/courier/other"),
            "--save-article",
            saved,
            "-o",
            tmp_path / "one.json",
            "--allow-private",
            *live(model),
            env=LIVE_ENV,
        )
        assert single.exit_code == 0, single.output
    page = tmp_path / "review.html"
    assert run("review", out, "--html", page, "--articles", tmp_path / "out.jsonl.db").exit_code == 0
    assert "<mark" in page.read_text() and SEED_PARAGRAPHS[1][:40] in page.read_text()
    one = tmp_path / "one.html"
    assert run("review", tmp_path / "one.json", "--html", one, "--article", saved).exit_code == 0
    assert "<mark" in one.read_text()
    from extractor.input.article import load_article

    result = json.loads((tmp_path / "one.json").read_text())
    assert load_article(saved).sha256 == result["article"]["sha256"]
    assert result["article"]["published"] == dt.date(2025, 7, 14).isoformat()


def test_extract_of_a_url_list_points_to_batch(tmp_path):
    listing = tmp_path / "urls.txt"
    listing.write_text("https://a.example/1\nhttps://a.example/2\n")
    result = run("extract", listing, "--provider", "replay")
    assert result.exit_code == 2 and "a list of URLs" in result.stderr and "extractor batch" in result.stderr


def test_without_the_news_extra_html_is_stripped_with_one_note(tmp_path, monkeypatch):
    import sys

    from extractor.testing.news_site import Site

    monkeypatch.setitem(sys.modules, "trafilatura", None)
    page = tmp_path / "story.html"
    page.write_text(news_page(Site("Herald", "https://herald.example"), "/s", "Bombers", SEED_PARAGRAPHS[:3]))
    with FaultServer() as model:
        result = run("extract", page, *live(model), env=LIVE_ENV)
    assert result.exit_code == 0, result.output
    notes = [line for line in result.stderr.splitlines() if line.startswith("extractor: note: HTML read by stripping")]
    assert len(notes) == 1 and "pip install 'extractor[news]'" in notes[0]
    story = len("\n".join(SEED_PARAGRAPHS[:3]))
    assert json.loads(result.stdout)["article"]["chars"] > story + 1000  # the site's boilerplate came along
