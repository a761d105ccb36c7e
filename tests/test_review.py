"""The HTML review page: highlights, item list, ungrounded/dropped items, headless Chromium."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from _evalkit import gold, seed_text
from typer.testing import CliRunner

from extractor.cli import app
from extractor.review import render_batch, render_page

CHROMIUM = Path("/usr/bin/chromium")
TEXT = "Two B-52 bombers flew with F-16 jets. KCNA condemned the drill."


def small_result() -> dict:
    ev = lambda quote, start, match="exact": {"quote": quote, "start": start, "end": start + len(quote), "match": match}  # noqa: E731
    return {
        "article": {"id": "small", "title": "Small <test>"},
        "exercises": [
            {"name": None, "description": "joint flight", "participants": [], "evidence": [ev("flew with", 17)]}
        ],
        "aircraft": [
            {"designation": "B-52", "mention": "B-52 bombers", "evidence": [ev("B-52 bombers", 4)]},
            {"designation": "F-16", "mention": "F-16 jets", "evidence": [ev("F-16 jets", 27)]},
            {
                "designation": "B-21",
                "mention": "B-21",
                "evidence": [{"quote": "B-21 Raider", "start": None, "end": None, "match": None}],
            },
        ],
        "statements": [
            {
                "speaker": {"name": "KCNA"},
                "stance": "criticize",
                "summary": "s",
                "evidence": [ev("KCNA condemned the drill", 38)],
            }
        ],
        "meta": {"warnings": ["dropped aircraft 'Tu-95': evidence not found: 'Tu-95 bears'", "article truncated"]},
    }


def test_dropped_items_come_from_the_notices_not_the_wording_of_warnings():
    result = small_result()
    detail = "B-2 left out: nothing the model quoted is in the article"
    result["meta"] = {
        "warnings": [detail, "dropped aircraft 'X': evidence not found: 'y'"],  # a warning that is no notice
        "notices": [{"code": "dropped_ungrounded", "detail": detail, "path": "aircraft[3]"}],
    }
    page = render_page(result, TEXT)
    assert page.count('class="item dropped"') == 1 and "B-2 left out" in page and "evidence not found" not in page


def test_small_page_structure():
    result = small_result()
    for item in [*result["exercises"], *result["aircraft"], *result["statements"]]:
        for ev in item["evidence"]:
            if ev["start"] is not None:
                assert TEXT[ev["start"] : ev["end"]] == ev["quote"]
    page = render_page(result, TEXT)
    assert page.count("<mark ") == 4
    assert re.findall(r'<li class="item t-(\w+)" data-item', page) == ["exercise", "aircraft", "aircraft", "statement"]
    assert page.count('class="item ungrounded') == 1 and "B-21 Raider" in page
    assert page.count('class="item dropped"') == 1 and "Tu-95" in page and "article truncated" not in page
    assert "Small &lt;test&gt;" in page  # escaped
    # Self-contained: CSS and JS inline, nothing fetched.
    assert "http" not in page and "<link" not in page and "src=" not in page
    assert "mark.active{" in page.split("<style>")[1].split("</style>")[0]
    assert "addEventListener" in page.split("<script>")[1].split("</script>")[0]


def test_statement_shows_when_it_was_made():
    result = small_result()
    result["statements"][0] |= {"date_text": "Friday", "date": "2025-03-14", "summary": "KCNA condemned it."}
    page = render_page(result, TEXT)
    assert "Friday (2025-03-14) · KCNA condemned it." in page


def test_missing_count_and_role_show_a_dash_not_none():
    result = small_result()
    result["aircraft"][1] |= {"count": 2, "role": "fighter"}
    page = render_page(result, TEXT)
    assert "None" not in page
    assert page.count("count — · role —") == 2  # B-52 and the ungrounded B-21
    assert "count 2 · role fighter" in page


def test_every_value_from_the_result_is_escaped():
    hostile = "<script>alert(1)</script>"
    result = small_result()
    result["aircraft"][0]["mention"] = hostile
    result["statements"][0]["summary"] = hostile
    result["aircraft"][2]["evidence"][0]["quote"] = hostile
    result["meta"]["warnings"].append(f"dropped statement 'x': evidence not found: '{hostile}'")
    page = render_page(result, TEXT.replace("Two", "<i>"))  # same length: the offsets hold
    text_block = page.split('<div class="text">')[1].split("</div>")[0]
    assert text_block.startswith("&lt;i&gt; <mark")
    assert hostile not in page
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 4


def test_overlapping_spans_are_split_into_segments():
    page = render_page(gold() | {"meta": {"warnings": []}}, seed_text())
    ids = set(re.findall(r'data-items="([^"]+)"', page))
    flat = {i for group in ids for i in group.split()}
    doc = gold()
    counts = (("e", len(doc["exercises"])), ("a", len(doc["aircraft"])), ("s", len(doc["statements"])))
    assert flat == {f"r0-{k}{n}" for k, count in counts for n in range(count)}
    assert 'data-items="r0-a3 r0-e3"' in page  # "USAF B-1B Lancers" inside the drill's quote
    text_only = re.sub(r"<[^>]+>", "", page.split('<div class="text">')[1].split("</div>")[0])
    import html

    assert html.unescape(text_only) == seed_text()  # highlighting never alters the text


def test_without_text_items_still_listed():
    page = render_page(small_result(), None)
    assert "Article text not available" in page and page.count("<mark ") == 0
    assert len(re.findall(r'<li [^>]*data-item="', page)) == 4


def test_batch_index():
    page = render_batch([(small_result(), TEXT), (gold(), None)])
    assert '<a href="#r0">' in page and '<a href="#r1">' in page
    assert 'data-item="r1-a0"' in page and page.count("<script>") == 1


def test_cli_review_json_and_jsonl(tmp_path):
    result_path = tmp_path / "r.json"
    result_path.write_text(json.dumps(small_result()), encoding="utf-8")
    article = tmp_path / "small.txt"
    article.write_text(TEXT, encoding="utf-8")
    out = tmp_path / "out.html"
    run = CliRunner().invoke(app, ["review", str(result_path), "--article", str(article), "--html", str(out)])
    assert run.exit_code == 0, run.output
    assert out.read_text(encoding="utf-8").count("<mark ") == 4
    batch = tmp_path / "r.jsonl"
    batch.write_text(
        json.dumps({"result": small_result()}) + "\n" + json.dumps({"error": "x"}) + "\n", encoding="utf-8"
    )
    run = CliRunner().invoke(app, ["review", str(batch), "--articles", str(tmp_path), "--html", str(out)])
    assert run.exit_code == 0, run.output
    assert "Index (1 articles)" in out.read_text(encoding="utf-8")
    missing = CliRunner().invoke(app, ["review", str(tmp_path / "nope.json"), "--html", str(out)])
    assert missing.exit_code == 2


def _chromium(url: str, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess:
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1280,900",
    ]
    return subprocess.run([str(CHROMIUM), *flags, *extra, url], capture_output=True, text=True, timeout=120)


browser = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium")


@pytest.mark.browser
@browser
def test_browser_renders_highlights_and_runs_script(tmp_path):
    page = tmp_path / "review.html"
    page.write_text(render_page(gold() | {"meta": {"warnings": []}}, seed_text()), encoding="utf-8")
    expected_marks = page.read_text(encoding="utf-8").count("<mark ")
    dom = _chromium(f"{page.as_uri()}#select=r0-a0", tmp_path, "--virtual-time-budget=2000", "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    html_out = dom.stdout
    items = sum(len(gold()[kind]) for kind in ("exercises", "aircraft", "statements"))
    assert html_out.count("<mark ") == expected_marks > items
    assert len(re.findall(r'<li class="item t-\w+[^"]*" data-item=', html_out)) == items
    # the script ran: the B-52 item and its three spans are marked active
    assert re.search(r'<li class="item t-aircraft active" data-item="r0-a0"', html_out)
    assert len(re.findall(r'<mark class="[^"]*\bactive\b[^"]*" data-items="[^"]*r0-a0', html_out)) == 3


@pytest.mark.browser
@browser
def test_browser_screenshot(tmp_path):
    page = tmp_path / "review.html"
    page.write_text(render_page(small_result(), TEXT), encoding="utf-8")
    shot = tmp_path / "shot.png"
    run = _chromium(page.as_uri(), tmp_path, f"--screenshot={shot}")
    assert run.returncode == 0, run.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
