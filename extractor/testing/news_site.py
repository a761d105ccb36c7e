"""Pages that look like real news sites, and a loopback HTTP server that serves them, for tests and bench/.

`news_page` wraps an article's paragraphs the way outlets do: a navigation bar, a cookie
banner, a breaking-news ticker, a byline and `<time>`, a "most read" list, related-story
teasers (about other military stories, so that a model reading them would find items that
are not the article's), a newsletter box, a paywall stub and a footer, with Open Graph tags,
a canonical link and JSON-LD. `NewsSite` serves such pages, feeds and sitemaps on 127.0.0.1,
with the faults a crawler meets (errors, hangs, endless bodies, redirects, cookies), answers
conditional GETs, and logs every request.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TEASERS = [
    ("Russian Tu-95 bombers intercepted near Alaska", "NORAD said F-22s escorted two Tu-95MS bombers out of the zone."),
    (
        "China sends 30 aircraft toward Taiwan",
        "J-16 fighters and a Y-8 patrol plane crossed the median line, Taipei said.",
    ),
    ("NATO opens Steadfast Noon drill", "Fourteen allies fly F-35s and F-16s in the annual nuclear exercise."),
    ("India and France start Garuda air exercise", "Rafale jets and Su-30MKIs train together in Jodhpur."),
]
MOST_READ = [
    "Storm forces thousands from their homes",
    "Central bank holds rates steady",
    "The ten best hiking trails this autumn",
    "Opinion: what the election means for the economy",
    "Football: late goal settles the derby",
]
LAST_MODIFIED = format_datetime(dt.datetime(2025, 7, 14, tzinfo=dt.UTC), usegmt=True)
NAV = ["World", "Politics", "Business", "Defence", "Technology", "Science", "Opinion", "Sport", "Culture", "Video"]


@dataclass(frozen=True)
class Site:
    """An outlet's look: its name, host and how it marks up a page."""

    name: str
    base: str  # "http://127.0.0.1:PORT"
    style: str = "modern"  # "modern": <article> + JSON-LD; "legacy": <div id=content> + meta tags only


def news_page(
    site: Site,
    path: str,
    headline: str,
    paragraphs: list[str],
    *,
    published: str | None = "2025-07-14T09:30:00+09:00",
    author: str | None = "Jane Park",
    canonical: str | None = None,
    teasers: int = 4,
) -> str:
    """A full HTML page carrying `paragraphs` as the story, wrapped in the outlet's boilerplate."""
    e = html.escape
    url = canonical or f"{site.base}{path}"
    ld = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": headline,
        "datePublished": published,
        "author": [{"@type": "Person", "name": author}] if author else [],
        "publisher": {"@type": "Organization", "name": site.name},
        "mainEntityOfPage": url,
    }
    body_parts = [f"<p>{e(paragraph)}</p>" for paragraph in paragraphs]
    if site.style == "legacy" and len(body_parts) > 3:
        # Older templates put a "read more" link and a share bar inside the story itself.
        inline = (
            f'<div class="inline-related"><strong>Read more:</strong> <a href="/story/0">{e(TEASERS[0][0])}</a></div>'
        )
        body_parts.insert(3, inline + '<div class="share-bar">Share on Facebook · Share on X · Email</div>')
    body = "\n".join(body_parts)
    related = "\n".join(
        f'<li class="teaser"><a href="/story/{n}"><h3>{e(title)}</h3></a><p>{e(summary)}</p></li>'
        for n, (title, summary) in enumerate(TEASERS[:teasers])
    )
    nav = "".join(f'<li><a href="/{name.lower()}">{name}</a></li>' for name in NAV)
    most_read = "".join(f'<li><a href="/most/{n}">{e(title)}</a></li>' for n, title in enumerate(MOST_READ))
    time_tag = f'<time datetime="{published}">{published[:10]}</time>' if published and site.style == "modern" else ""
    meta_date = f'<meta property="article:published_time" content="{published}">' if published else ""
    head_ld = f'<script type="application/ld+json">{json.dumps(ld)}</script>' if site.style == "modern" else ""
    container = ("<article>", "</article>") if site.style == "modern" else ('<div id="content">', "</div>")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{e(headline)} | {e(site.name)}</title>
<meta property="og:title" content="{e(headline)}">
<meta property="og:site_name" content="{e(site.name)}">
<meta property="og:type" content="article">
{meta_date}
<meta name="author" content="{e(author or "")}">
<link rel="canonical" href="{e(url)}">
<link rel="stylesheet" href="/static/site.css">
{head_ld}
<script>window.dataLayer = window.dataLayer || []; function gtag(){{dataLayer.push(arguments);}}</script>
</head><body>
<div class="cookie-banner" role="dialog"><p>We and our 842 partners use cookies and similar technologies to
store and access information on your device, to personalise ads and content, to measure ad and content
performance and to develop and improve our products.</p><button>Accept all</button><button>Manage
preferences</button></div>
<header><a class="logo" href="/">{e(site.name)}</a><nav><ul>{nav}</ul></nav>
<form action="/search"><input name="q" placeholder="Search {e(site.name)}"></form>
<a href="/subscribe">Subscribe</a> <a href="/login">Sign in</a></header>
<div class="ticker">Breaking: Markets open lower after overnight sell-off in Asia · Live: parliament debates
the budget · Weather warning issued for the north coast</div>
<main>{container[0]}
<h1>{e(headline)}</h1>
<div class="byline">By {e(author or "Staff")} · {time_tag}</div>
{body}
<div class="paywall"><h2>Subscribe to keep reading</h2><p>You have read all of your free articles this month.
Subscribe from just $1 a week for unlimited access to award-winning journalism.</p>
<a href="/subscribe">Subscribe now</a> <a href="/login">Already a subscriber? Sign in</a></div>
{container[1]}
<section class="related"><h2>Related stories</h2><ul>{related}</ul></section>
<aside class="most-read"><h2>Most read</h2><ol>{most_read}</ol></aside>
<div class="newsletter"><h2>Get the morning briefing</h2><p>The stories that matter, in your inbox every
weekday at 6am.</p><input type="email" placeholder="Your email"><button>Sign up</button></div>
</main>
<footer><ul><li><a href="/about">About us</a></li><li><a href="/contact">Contact</a></li><li><a
href="/privacy">Privacy policy</a></li><li><a href="/terms">Terms of use</a></li><li><a
href="/advertise">Advertise with us</a></li></ul><p>© 2025 {e(site.name)} Media Group. All rights reserved.
Registered in England and Wales.</p></footer>
</body></html>
"""


def rss(title: str, items: list[tuple[str, str, str]]) -> str:
    """An RSS 2.0 feed of (link, title, RFC 2822 date) items."""
    entries = "\n".join(
        f"<item><title>{html.escape(t)}</title><link>{html.escape(link)}</link><pubDate>{date}</pubDate>"
        f'<guid isPermaLink="false">{html.escape(link)}#id</guid></item>'
        for link, t, date in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"<channel><title>{html.escape(title)}</title><link>http://example.org/</link>\n{entries}\n</channel></rss>"
    )


def sitemap(urls: list[str], *, news: bool = False, index: bool = False) -> str:
    """A sitemap (a news sitemap with `news`, a sitemap index with `index`) of the URLs."""
    if index:
        entries = "".join(f"<sitemap><loc>{html.escape(url)}</loc></sitemap>" for url in urls)
        return f'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</sitemapindex>'
    ns = ' xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"' if news else ""
    items = []
    for url in urls:
        extra = (
            "<news:news><news:publication><news:name>Wire</news:name><news:language>en</news:language>"
            "</news:publication><news:publication_date>2025-07-14T08:00:00Z</news:publication_date>"
            "<news:title>From the news sitemap</news:title></news:news>"
            if news
            else ""
        )
        items.append(f"<url><loc>{html.escape(url)}</loc>{extra}</url>")
    return f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"{ns}>{"".join(items)}</urlset>'


@dataclass
class Route:
    """What one path answers: status, headers and a body (bytes, or chunks from a function)."""

    body: bytes | Callable[[], Iterator[bytes]] = b""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    hang: bool = False  # never answer (until the client gives up or the server stops)


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    status: int
    at: float  # time.monotonic() when the request arrived


class NewsSite:
    """A threaded HTTP server on 127.0.0.1 answering from `routes` (path -> Route); 404 otherwise."""

    def __init__(self, routes: dict[str, Route] | None = None) -> None:
        self.routes: dict[str, Route] = dict(routes or {})
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                site._answer(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def site(self, name: str, style: str = "modern") -> Site:
        return Site(name, self.base, style)

    def requests_to(self, path: str) -> list[Seen]:
        return [seen for seen in self.seen if seen.path == path]

    def __enter__(self) -> NewsSite:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        path = handler.path.split("?", 1)[0]  # a page answers whatever its query (tracking parameters)
        route = self.routes.get(handler.path) or self.routes.get(path) or Route(b"not found", 404, "text/plain")
        headers = {name.lower(): value for name, value in handler.headers.items()}
        not_modified = route.etag is not None and headers.get("if-none-match") == route.etag
        status = 304 if not_modified else route.status
        with self._lock:
            self.seen.append(Seen(handler.path, headers, status, time.monotonic()))
        if route.hang:
            self._stopping.wait(60)
            return
        handler.send_response(status)
        handler.send_header("content-type", route.content_type)
        if route.etag:
            handler.send_header("etag", route.etag)
            handler.send_header("last-modified", LAST_MODIFIED)
        for name, value in route.headers.items():
            handler.send_header(name, value)
        if not_modified:
            handler.send_header("content-length", "0")
            handler.end_headers()
            return
        try:
            if callable(route.body):
                handler.send_header("transfer-encoding", "chunked")
                handler.end_headers()
                for chunk in route.body():
                    handler.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                handler.wfile.write(b"0\r\n\r\n")
            else:
                handler.send_header("content-length", str(len(route.body)))
                handler.end_headers()
                handler.wfile.write(route.body)
        except (BrokenPipeError, ConnectionResetError):
            handler.close_connection = True  # the client stopped reading: what a size cap does


def endless(total: int, chunk: int = 65536) -> Callable[[], Iterator[bytes]]:
    """A body of `total` bytes of HTML, produced as it is sent (never held in memory)."""

    def chunks() -> Iterator[bytes]:
        yield b"<html><body><p>"
        sent = 0
        while sent < total:
            yield b"x" * chunk
            sent += chunk
        yield b"</p></body></html>"

    return chunks
