"""Jobs whose articles are URLs: fetched by the service as `batch --url` fetches them, each URL
failing alone (cause `fetch`), private addresses refused unless the service allows them.

A real `extractor serve`, the fault server as its model and a news site on loopback.
"""

from __future__ import annotations

import json

import pytest

pytest.importorskip("fastapi", reason="needs the service extra")

from extractor.errors import Cause
from extractor.input.web import url_id
from extractor.service.intake import new_articles, records_from_list
from extractor.testing.faultserver import FaultConfig, FaultServer
from extractor.testing.news_site import NewsSite, Route, news_page
from tests.support.service_process import ServiceProcess, service_env, wait_for_job

STORY = [
    "Two B-52 bombers flew with Japanese fighter jets over the Sea of Japan on Friday.",
    "The flight was the third such exercise this year, the Joint Staff said.",
]
ARTICLE = "NATO aircraft joined exercise Steadfast Noon over the North Sea on Monday."
FAST_FETCH = {"EXTRACTOR_FETCH_RATE": "100", "EXTRACTOR_FETCH_RETRIES": "0", "EXTRACTOR_FETCH_TIMEOUT": "5"}


@pytest.fixture(scope="module")
def site():
    with NewsSite() as server:
        markup = news_page(server.site("The Pacific Herald"), "/asia/b52", "B-52s fly with Japanese jets", STORY)
        server.routes["/asia/b52"] = Route(markup.encode())
        server.routes["/gone"] = Route(b"<html><body>gone</body></html>", status=404)
        yield server


@pytest.fixture(scope="module")
def fault():
    with FaultServer(FaultConfig(latency=0.01)) as server:
        yield server


def _serve(fault, workdir, **settings: str) -> ServiceProcess:
    return ServiceProcess(workdir, service_env(fault.base_url, **FAST_FETCH, **settings)).start()


def test_a_job_of_urls_and_texts_fetches_each_url_and_fails_only_the_bad_one(site, fault, tmp_path):
    service = _serve(fault, tmp_path, EXTRACTOR_SERVICE_FETCH_ALLOW_PRIVATE="true")
    try:
        with service.client() as client:
            page, gone = site.url("/asia/b52?utm_source=feed"), site.url("/gone")
            articles = [{"url": page}, {"id": "missing", "url": gone}, {"id": "t1", "text": ARTICLE}]
            job = client.post("/v1/jobs", json={"articles": articles}).json()
            assert job["counts"] == {"total": 3, "done": 0, "failed": 0, "skipped": 0, "pending": 3}
            job = wait_for_job(client, job["id"])
            assert job["status"] == "completed_with_failures"
            assert job["counts"] == {"total": 3, "done": 2, "failed": 1, "skipped": 0, "pending": 0}
            failures = [json.loads(line) for line in client.get(f"/v1/jobs/{job['id']}/failures").text.splitlines()]
            assert [(f["id"], f["reason"]) for f in failures] == [("missing", Cause.FETCH)]
            assert "404" in failures[0]["message"] and gone in failures[0]["message"]
            results = {
                json.loads(line)["article"]["id"]: json.loads(line)
                for line in client.get(f"/v1/jobs/{job['id']}/results").text.splitlines()
            }
            fetched = results[url_id(page)]
            assert fetched["article"]["title"] == "B-52s fly with Japanese jets"  # from the page's metadata
            assert fetched["article"]["url"] == site.url("/asia/b52")  # canonical, no tracking parameter
            # the review shows the fetched main text, which the evidence points into
            review = client.get(f"/v1/jobs/{job['id']}/review", params={"format": "json"}).json()
            text = next(item["text"] for item in review["data"] if item["id"] == url_id(page))
            evidence = fetched["exercises"][0]["evidence"][0]
            assert evidence["start"] is not None and text[evidence["start"] : evidence["end"]] == evidence["quote"]
            assert STORY[0] in text and STORY[1] in text
            assert "cookie" not in text.lower()  # the page's boilerplate stayed out
            assert len([seen for seen in site.seen if seen.path.startswith("/asia/b52")]) == 1
            # a failed URL is retried on request, and fetched again
            site.routes["/gone"] = site.routes["/asia/b52"]
            assert client.post(f"/v1/jobs/{job['id']}/retry").status_code == 200
            job = wait_for_job(client, job["id"])
            assert job["status"] == "completed" and job["counts"]["done"] == 3
    finally:
        site.routes["/gone"] = Route(b"<html><body>gone</body></html>", status=404)
        service.stop()


def test_private_addresses_are_refused_by_default(site, fault, tmp_path):
    service = _serve(fault, tmp_path)
    try:
        with service.client() as client:
            before = len(site.seen)
            job = client.post("/v1/jobs", json={"articles": [{"id": "local", "url": site.url("/asia/b52")}]}).json()
            job = wait_for_job(client, job["id"])
            assert job["status"] == "failed"
            (failure,) = [json.loads(line) for line in client.get(f"/v1/jobs/{job['id']}/failures").text.splitlines()]
            assert failure["reason"] == Cause.FETCH and "127.0.0.1" in failure["message"]
            assert len(site.seen) == before  # refused before any connection
    finally:
        service.stop()


def test_url_records_are_stored_to_be_fetched_and_repeats_are_one_article():
    lines = records_from_list(
        [
            {"url": "https://example.org/a?utm_source=x"},
            {"url": "https://example.org/a"},  # the same page: one article
            {"id": "b", "url": "https://example.org/b"},
            {"id": "b", "url": "https://example.org/c"},  # the id of another article
            {"url": "ftp://example.org/d"},  # stored: the fetcher refuses it (cause fetch), as in a batch
            {"url": "not a url"},  # no text and no URL: an input failure
        ]
    )
    stored = new_articles(lines, 1_000_000)
    assert [(a.key, a.failure is None) for a in stored][:2] == [(url_id("https://example.org/a"), True), ("b", True)]
    assert "already used" in (stored[2].failure or "")
    assert stored[3].key == url_id("ftp://example.org/d") and stored[3].failure is None
    assert stored[4].failure is not None and "text" in stored[4].failure and len(stored) == 5
