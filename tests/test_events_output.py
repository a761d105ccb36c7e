"""Events outputs fed untrusted results: links only to http(s), CSV cells never formulas, readable rows."""

from __future__ import annotations

import csv
import io
import re

import pytest
from _eventkit import actor, exercise, result, statement

from extractor.events import merge, render_timeline, to_csv
from extractor.events.timeline import link

AKAR = actor("Hulusi Akar", "TUR", kind="person")
US = actor("United States", "USA", canonical="United States", kind="state")


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(document.cookie)",
        "JaVaScRiPt:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "java\nscript:alert(1)",
        "\x01javascript:alert(1)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "vbscript:msgbox(1)",
        "//evil.example/a",
        "/relative/path",
        "https:",
        "http://[::1",
    ],
)
def test_only_http_urls_are_links(url):
    assert link(url) is None
    record = result("a1", "2025-07-12", statements=[statement(AKAR, summary="Akar spoke")])
    record["article"]["url"] = url
    html = render_timeline(merge([record]))
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert hrefs == []
    assert "Story a1" in html  # the title still shows, as text


def test_http_and_https_urls_are_links():
    assert link("https://www.voanews.com/a/x/8011115.html") == "https://www.voanews.com/a/x/8011115.html"
    assert link("HTTP://example.org/a") == "HTTP://example.org/a"
    html = render_timeline(merge([result("a1", "2025-07-12", statements=[statement(AKAR, summary="s")])]))
    assert re.findall(r'href="([^"]*)"', html) == ["https://example.org/a1"]


# (A leading tab or CR does not survive the contract's whitespace stripping.)
FORMULAS = ['=HYPERLINK("http://evil.example","click")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)"]


@pytest.mark.parametrize("formula", FORMULAS)
def test_csv_cells_are_never_formulas(formula):
    records = [
        result(
            "a1",
            "2025-07-12",
            exercises=[exercise("drill", name=formula, start="2025-07-11", participants=[actor(formula, "USA")])],
            statements=[statement(actor(formula, "TUR", kind="person"), summary=formula, quote=formula + " quoted")],
        ),
    ]
    records[0]["article"]["id"] = formula
    rows = list(csv.reader(io.StringIO(to_csv(merge(records)))))
    cells = [cell for row in rows[1:] for cell in row]
    assert cells, rows
    assert not [cell for cell in cells if cell.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert any(cell.startswith("'" + formula[:3]) for cell in cells)


def test_numbers_stay_numbers_in_csv():
    rows = list(
        csv.DictReader(
            io.StringIO(to_csv(merge([result("a1", "2025-07-12", statements=[statement(AKAR, summary="s")])])))
        )
    )
    assert rows[0]["sources"] == "1" and rows[0]["first_reported"] == "2025-07-12"


def test_statement_row_names_the_speaker_then_on_the_targets():
    records = [
        result(
            "a1",
            "2025-07-12",
            statements=[
                statement(AKAR, summary="Akar rejected sanctions", targets=[US, actor("NATO", canonical="NATO")]),
                statement(actor("KCNA", "PRK"), summary="KCNA spoke", quote="a long enough quote here"),
            ],
        )
    ]
    events = merge(records)
    rows = {r["label"].split(":")[0]: r for r in csv.DictReader(io.StringIO(to_csv(events)))}
    assert rows["Hulusi Akar"]["participants"] == "Hulusi Akar on United States, NATO"
    assert rows["KCNA"]["participants"] == "KCNA"  # no targets: the speaker alone
    html = render_timeline(events)
    assert " · Hulusi Akar on United States, NATO</span>" in html
    assert "Hulusi Akar, United States" not in html
