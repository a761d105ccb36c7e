"""How much of what reaches the model is boilerplate: tag stripping (before) against trafilatura (after).

    .venv/bin/python bench/bench_news.py            # every corpus article and the seed, both page styles
    .venv/bin/python bench/bench_news.py --runs 5

Each article (corpus/*.txt and seeds/*.txt) is wrapped in `extractor.testing.news_site.news_page`
in two outlet styles: "modern" (an `<article>` element and JSON-LD) and "legacy" (a `<div
id=content>`, meta tags only, a "read more" link and a share bar inside the story). Around the
story sit a cookie banner, navigation, a breaking-news ticker, a paywall stub, related-story
teasers, a "most read" list, a newsletter box and a footer.

For each page and reader, with whitespace collapsed: the text sent to the model, the
characters of it that are the story's own (its paragraphs and headline, as found in the
text), and the rest, which is boilerplate. "boilerplate share" = boilerplate / text sent;
"story kept" = characters of the story's paragraphs found / on the page (the headline goes
to the model as the title either way). Times are per page,
min–max over the runs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from extractor.input.article import html_to_text
from extractor.input.html import read_page
from extractor.testing.news_site import Site, news_page

ROOT = Path(__file__).resolve().parents[1]


def normal(text: str) -> str:
    return " ".join(text.split())


def pages() -> list[tuple[str, str, list[str], str]]:
    """(name, headline, paragraphs, markup) for every article in both styles."""
    found = []
    for path in sorted([*ROOT.glob("corpus/*.txt"), *ROOT.glob("seeds/*.txt")]):
        paragraphs = [line.strip() for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]
        headline = paragraphs[0][:90].rsplit(" ", 1)[0]
        for style in ("modern", "legacy"):
            site = Site("The Pacific Herald", "https://herald.example", style)
            markup = news_page(site, f"/story/{path.stem}", headline, paragraphs)
            found.append((f"{path.stem}/{style}", headline, paragraphs, markup))
    return found


def measure(text: str, headline: str, paragraphs: list[str]) -> tuple[int, int, int, int]:
    """(characters sent, the story's own among them (headline included), paragraph characters
    found, paragraph characters on the page)."""
    sent = normal(text)
    own = [normal(part) for part in [headline, *paragraphs]]
    found = [part for part in own if part in sent]
    story = min(len(sent), sum(map(len, found)) + max(0, len(found) - 1))
    body = [normal(part) for part in paragraphs]
    return len(sent), story, sum(len(part) for part in body if part in sent), sum(map(len, body))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    readers = {
        "tag stripping (before)": lambda markup: html_to_text(markup)[0],
        "trafilatura (after)": lambda markup: read_page(markup, url="https://herald.example/story").text,
    }
    corpus = pages()
    print(f"{len(corpus)} pages ({len(corpus) // 2} articles x 2 styles), {args.runs} runs\n")
    print(
        "| reader | pages | chars sent | story chars | boilerplate chars | boilerplate share | story kept | ms/page |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, read in readers.items():
        sent = story = kept = on_page = 0
        shares = []
        timings = []
        for run in range(args.runs):
            started = time.perf_counter()
            texts = [read(markup) for _, _, _, markup in corpus]
            timings.append((time.perf_counter() - started) * 1000 / len(corpus))
            if run == 0:
                for (_, headline, paragraphs, _), text in zip(corpus, texts, strict=True):
                    chars, found, body, total = measure(text, headline, paragraphs)
                    sent, story, kept, on_page = sent + chars, story + found, kept + body, on_page + total
                    shares.append((chars - found) / chars if chars else 0.0)
        boilerplate = sent - story
        print(
            f"| {name} | {len(corpus)} | {sent:,} | {story:,} | {boilerplate:,} | {boilerplate / sent:.1%} "
            f"(per page {min(shares):.0%}–{max(shares):.0%}, median {statistics.median(shares):.0%}) "
            f"| {kept / on_page:.1%} | {min(timings):.1f}–{max(timings):.1f} |"
        )


if __name__ == "__main__":
    main()
