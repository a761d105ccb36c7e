"""The fetcher against a real HTTP server on loopback: caps, redirects, robots.txt, retries, cache, pace."""

from __future__ import annotations

import gzip
import itertools

import pytest

from extractor.input.fetch import Fetcher, FetchError, FetchSettings
from extractor.input.fetch_cache import FetchCache
from extractor.testing.news_site import NewsSite, Route, endless

PAGE = b"<html><body><article><p>Two B-52 bombers flew over the peninsula.</p></article></body></html>"


def settings(**changes) -> FetchSettings:
    base = dict(allow_private=True, robots=False, rate=1000, retries=0, backoff_initial=0.0, timeout=5)
    return FetchSettings(**{**base, **changes})


async def fetch(url: str, cache: FetchCache | None = None, **changes):
    async with Fetcher(settings(**changes), cache=cache) as fetcher:
        return await fetcher.get(url), fetcher


@pytest.fixture
def site():
    with NewsSite({"/page": Route(PAGE)}) as server:
        yield server


async def test_a_page_is_fetched_with_our_user_agent_and_no_cookie_is_kept(site):
    site.routes["/first"] = Route(PAGE, headers={"set-cookie": "session=abc; Path=/"})
    async with Fetcher(settings(user_agent="NewsroomBot/2.0 (+https://newsroom.example/bot)")) as fetcher:
        await fetcher.get(site.url("/first"))
        fetched = await fetcher.get(site.url("/page"))
    assert fetched.body == PAGE and fetched.media_type == "text/html"
    second = site.requests_to("/page")[0].headers
    assert second["user-agent"] == "NewsroomBot/2.0 (+https://newsroom.example/bot)"
    assert "cookie" not in second


async def test_user_agent_from_the_environment(monkeypatch):
    monkeypatch.setenv("EXTRACTOR_FETCH_USER_AGENT", "DeskBot/1.0")
    assert FetchSettings().user_agent == "DeskBot/1.0"


@pytest.mark.parametrize(
    "route, reason",
    [
        (Route(b"gone", 404, "text/plain"), "HTTP 404 Not Found"),
        (Route(b"%PDF-1.4", content_type="application/pdf"), "content type application/pdf, not text/html"),
        (Route(b"x", 503, "text/plain"), "HTTP 503"),
    ],
)
async def test_failures_name_the_url_and_the_reason(site, route, reason):
    site.routes["/bad"] = route
    with pytest.raises(FetchError, match=reason) as caught:
        await fetch(site.url("/bad"))
    assert str(caught.value).startswith(site.url("/bad"))


async def test_a_hanging_server_times_out(site):
    site.routes["/hang"] = Route(hang=True)
    with pytest.raises(FetchError, match="timed out"):
        await fetch(site.url("/hang"), timeout=0.3)


async def test_a_50_mb_page_stops_at_the_cap_without_reading_it_all(site):
    site.routes["/huge"] = Route(endless(50_000_000))
    with pytest.raises(FetchError, match="over the 1,000,000-byte limit"):
        async with Fetcher(settings(max_bytes=1_000_000)) as fetcher:
            await fetcher.get(site.url("/huge"))
    assert fetcher.stats["downloaded_bytes"] < 2_000_000


async def test_a_declared_length_over_the_cap_is_not_read(site):
    site.routes["/big"] = Route(b"<html>" + b"x" * 5000)
    with pytest.raises(FetchError, match="not read"):
        await fetch(site.url("/big"), max_bytes=1000)


async def test_a_decompression_bomb_stops_at_the_cap(site):
    bomb = gzip.compress(b"<html><body>" + b"\0" * 50_000_000)
    site.routes["/bomb"] = Route(bomb, headers={"content-encoding": "gzip"})
    with pytest.raises(FetchError, match="over the 1,000,000-byte limit"):
        await fetch(site.url("/bomb"), max_bytes=1_000_000)
    small = gzip.compress(PAGE)
    site.routes["/gz"] = Route(small, headers={"content-encoding": "gzip"})
    fetched, _ = await fetch(site.url("/gz"))
    assert fetched.body == PAGE


async def test_redirects_are_followed_and_limited(site):
    site.routes["/old"] = Route(status=301, headers={"location": "/page"})
    fetched, _ = await fetch(site.url("/old"))
    assert (fetched.url, fetched.final_url) == (site.url("/old"), site.url("/page"))
    for n in range(4):
        site.routes[f"/loop{n}"] = Route(status=302, headers={"location": f"/loop{n + 1}"})
    with pytest.raises(FetchError, match="more than 2 redirects"):
        await fetch(site.url("/loop0"), max_redirects=2)


@pytest.mark.parametrize(
    "target, options",
    [
        ("http://10.1.2.3/latest", {"allow_private": False, "allow_networks": ["127.0.0.1/32"]}),
        ("http://169.254.169.254/latest/meta-data/", {"allow_private": True}),
        ("http://[::ffff:192.168.0.1]/", {"allow_private": False, "allow_networks": ["127.0.0.1/32"]}),
        ("file:///etc/passwd", {"allow_private": True}),
    ],
)
async def test_a_redirect_to_a_refused_address_is_refused_before_connecting(site, target, options):
    # A connection to anything but loopback would fail in this test session with NetworkBlocked:
    # the refusal must come first, from the policy.
    site.routes["/jump"] = Route(status=302, headers={"location": target})
    with pytest.raises(FetchError, match="refused|only http and https"):
        await fetch(site.url("/jump"), **options)
    assert [seen.path for seen in site.seen] == ["/jump"]


async def test_the_first_address_is_checked_too(site):
    with pytest.raises(FetchError, match="127.0.0.1 is a loopback address"):
        await fetch(site.url("/page"), allow_private=False)
    assert site.seen == []


async def test_robots_txt_is_honoured_unless_ignored(site):
    site.routes["/robots.txt"] = Route(b"User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    site.routes["/private/x"] = Route(PAGE)
    with pytest.raises(FetchError, match="disallowed by .*robots.txt"):
        await fetch(site.url("/private/x"), robots=True)
    fetched, _ = await fetch(site.url("/page"), robots=True)
    assert fetched.body == PAGE
    fetched, _ = await fetch(site.url("/private/x"), robots=False)
    assert fetched.body == PAGE
    assert len(site.requests_to("/private/x")) == 1
    with NewsSite({"/go": Route(status=302, headers={"location": site.url("/private/x")})}) as other:
        with pytest.raises(FetchError, match="disallowed by .*robots.txt"):  # the target host's rules apply
            await fetch(other.url("/go"), robots=True)
    assert len(site.requests_to("/private/x")) == 1


async def test_robots_txt_for_our_agent_and_an_unreachable_one(site):
    site.routes["/robots.txt"] = Route(
        b"User-agent: extractor\nDisallow: /\n\nUser-agent: *\nAllow: /\n", content_type="text/plain"
    )
    with pytest.raises(FetchError, match="disallowed"):
        await fetch(site.url("/page"), robots=True)
    site.routes["/robots.txt"] = Route(b"down", 500, "text/plain")
    async with Fetcher(settings(robots=True)) as fetcher:
        for _ in range(3):
            with pytest.raises(FetchError, match="robots.txt unreachable"):
                await fetcher.get(site.url("/page"))
    assert site.requests_to("/page") == []
    assert len(site.requests_to("/robots.txt")) == 2  # once per run (the first run's and this one's)


async def test_429_and_5xx_are_retried_honouring_retry_after(site):
    answers = iter(
        [Route(b"slow down", 429, "text/plain", {"retry-after": "0"}), Route(b"x", 502, "text/plain"), Route(PAGE)]
    )
    site.routes["/busy"] = next(answers)

    class Rotating(dict):
        def get(self, path, default=None):
            if path == "/busy":
                route = self.pop("/busy")
                self["/busy"] = next(answers, route)
                return route
            return super().get(path, default)

    site.routes = Rotating(site.routes)
    fetched, fetcher = await fetch(site.url("/busy"), retries=3, backoff_initial=0.01, backoff_max=0.02)
    assert fetched.body == PAGE
    assert [seen.status for seen in site.requests_to("/busy")] == [429, 502, 200]


async def test_a_retry_after_longer_than_we_wait_gives_up_at_once(site):
    site.routes["/later"] = Route(b"", 429, "text/plain", {"retry-after": "3600"})
    with pytest.raises(FetchError, match="Retry-After 3600 s is over the 120 s"):
        await fetch(site.url("/later"), retries=3)
    assert len(site.requests_to("/later")) == 1


async def test_conditional_get_takes_the_cached_body(site):
    site.routes["/page"] = Route(PAGE, etag='"v1"')
    with FetchCache() as cache:
        first, _ = await fetch(site.url("/page"), cache=cache)
        second, _ = await fetch(site.url("/page"), cache=cache)
    assert (first.revalidated, second.revalidated) == (False, True)
    assert second.body == PAGE
    assert [seen.status for seen in site.requests_to("/page")] == [200, 304]
    assert site.requests_to("/page")[1].headers["if-none-match"] == '"v1"'


async def test_requests_to_one_host_are_paced_and_hosts_apart(site, monkeypatch):
    import asyncio

    granted: list[tuple[str, float]] = []
    original = Fetcher._limiter

    class Recorded:
        def __init__(self, limiter, origin):
            self.limiter, self.origin = limiter, origin

        async def acquire(self):
            await self.limiter.acquire()
            granted.append((self.origin, asyncio.get_running_loop().time()))

    monkeypatch.setattr(Fetcher, "_limiter", lambda self, url: Recorded(original(self, url), url.split("/")[2]))
    rate = 20.0
    with NewsSite({"/page": Route(PAGE)}) as other:
        async with Fetcher(settings(rate=rate)) as fetcher:
            for _ in range(3):
                await asyncio.gather(fetcher.get(site.url("/page")), fetcher.get(other.url("/page")))
    hosts = {origin for origin, _ in granted}
    assert len(hosts) == 2 and len(granted) == 6
    for host in hosts:
        times = [at for origin, at in granted if origin == host]
        # Each host's own pace: its limiter grants one request per 1/rate seconds at most.
        assert all(later - earlier >= 0.99 / rate for earlier, later in itertools.pairwise(times))
