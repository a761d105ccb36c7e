"""The service's page and API documentation in headless Chromium (Debian's package, driven by
Playwright through `executable_path`: no browser is downloaded).

A real `extractor serve` talks to the fault server on loopback; every request the browser
makes anywhere else is refused and recorded, so the pages are shown to work offline.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

pytest.importorskip("fastapi", reason="needs the service extra")
pytest.importorskip("playwright.sync_api", reason="needs playwright (dev extra)")

from playwright.sync_api import sync_playwright

from extractor.errors import Cause
from extractor.testing.faultserver import QUOTE_CHARS, FaultConfig, FaultServer
from tests.support.service_process import API_KEY, ServiceProcess, service_env, wait_for_job

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [pytest.mark.browser, pytest.mark.skipif(CHROMIUM is None, reason="needs chromium on PATH")]
ARTICLE = (
    # an astral character (two UTF-16 units, one code point) before the evidence ends
    "NATO aircraft \U0001f6e9 joined the nations’ exercise Steadfast Noon over the North Sea on Monday.\n\n"
    "Officials said B-52 bombers from the United States took part in the annual drill."
)
WAIT = 60_000  # ms: a ceiling for a loaded machine, never a measured margin


@pytest.fixture(scope="module")
def fault():
    with FaultServer(FaultConfig(latency=0.01)) as server:
        yield server


@pytest.fixture(scope="module")
def service(fault, tmp_path_factory):
    process = ServiceProcess(tmp_path_factory.mktemp("page"), service_env(fault.base_url)).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def api(service):
    with service.client() as client:
        yield client


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield chromium
        chromium.close()


class Offline:
    """A browser context (its own sessionStorage) that may reach the service and nothing else."""

    def __init__(self, browser, service) -> None:
        self.context = browser.new_context(accept_downloads=True)
        self.context.set_default_timeout(WAIT)
        self.refused: list[str] = []
        self.context.route("**/*", self._only_the_service)
        self.page = self.context.new_page()
        self.service = service

    def _only_the_service(self, route) -> None:
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob") or (parts.hostname, parts.port) == ("127.0.0.1", self.service.port):
            route.continue_()
        else:
            self.refused.append(url)
            route.abort()

    def open(self, path: str):
        self.page.goto(f"{self.service.url}{path}")
        return self.page

    def use_key(self, key: str = API_KEY) -> None:
        self.page.fill("#key", key)
        self.page.click("#keyform button")


@pytest.fixture
def tab(browser, service):
    offline = Offline(browser, service)
    yield offline
    assert offline.refused == []  # nothing was fetched from the internet
    assert API_KEY not in offline.page.url
    offline.context.close()


def _job_id(page) -> str:
    page.wait_for_url("**/jobs/*")
    return page.url.rsplit("/", 1)[1]


def test_a_pasted_article_shows_its_results_with_the_evidence_highlighted(tab, api, tmp_path):
    page = tab.open("/")
    tab.use_key()
    page.fill("#text", ARTICLE)
    page.fill("#title", "Steadfast Noon")
    page.click("#submitjob")
    job_id = _job_id(page)
    page.wait_for_selector('#job[data-status="completed"]')
    marks = page.locator("article.result mark")
    marks.first.wait_for()
    assert marks.count() >= 1
    quote = ARTICLE.split("\n")[0][:QUOTE_CHARS].strip()  # what the fault server's model quotes
    assert set(marks.all_inner_texts()) == {quote}  # the evidence, marked exactly where it is
    assert page.locator("article.result h3").inner_text().endswith("Steadfast Noon")
    assert page.locator("#progress").inner_text().startswith("1 / 1")
    # the download is the service's results, as UTF-8 (no "nationsâ€™")
    with page.expect_download() as started:
        page.click("#download-results")
    download = started.value
    assert download.suggested_filename == f"{job_id}-results.jsonl"
    saved = tmp_path / "results.jsonl"
    download.save_as(saved)
    raw = saved.read_bytes()
    assert "nations’".encode() in raw and "â€" not in raw.decode("utf-8")
    assert raw == api.get(f"/v1/jobs/{job_id}/results").content
    assert json.loads(raw.splitlines()[0])["article"]["title"] == "Steadfast Noon"


def test_the_triage_box_skips_an_article_with_nothing_to_extract(tab, api, fault):
    off_topic = (Path(__file__).parent / "data/offtopic/weather-typhoon.txt").read_text(encoding="utf-8")
    page = tab.open("/")
    tab.use_key()
    page.fill("#text", f"{off_topic}\n\n(page triage)")
    page.check("#triage")
    requests_before = fault.stats.requests
    page.click("#submitjob")
    job_id = _job_id(page)
    page.wait_for_selector('#job[data-status="completed"]')
    assert page.locator("#progress").inner_text() == "1 / 1 (0 done, 0 failed, 1 skipped, 0 pending)"
    job = api.get(f"/v1/jobs/{job_id}").json()
    assert job["triage"] is True and job["counts"]["skipped"] == 1
    assert fault.stats.requests == requests_before  # never sent


def test_results_and_failures_are_served_as_utf_8(api):
    job = api.post("/v1/jobs", json={"articles": [{"text": ARTICLE}, {"text": ""}]}).json()
    wait_for_job(api, job["id"])
    for what in ("results", "failures"):
        answer = api.get(f"/v1/jobs/{job['id']}/{what}")
        assert answer.headers["content-type"] == "application/x-ndjson; charset=utf-8"


def test_a_failed_article_shows_its_reason_and_retry_completes_it(tab, fault, tmp_path):
    upload = tmp_path / "desk-story.txt"
    upload.write_text(f"{ARTICLE} A desk copy.", encoding="utf-8")  # not a text done before
    page = tab.open("/")
    tab.use_key()
    fault.config.rate_invalid = 1.0  # every answer the model gives fails validation
    try:
        page.set_input_files("#file", str(upload))
        page.click("#submitjob")
        _job_id(page)
        page.wait_for_selector('#job[data-status="failed"]')
        row = page.locator('#failures tr[data-article="desk-story"]')
        assert row.locator(".reason").inner_text() == Cause.INVALID_OUTPUT
        assert page.locator("article.result").count() == 0
    finally:
        fault.config.rate_invalid = 0.0  # the model answers well now
    page.click("#retry")
    page.wait_for_selector('#job[data-status="completed"]')
    page.wait_for_selector('article.result[data-article="desk-story"] mark')
    page.wait_for_selector("#failures-section", state="hidden")


def test_a_jsonl_upload_is_one_job_and_its_review_loads_as_the_reader_scrolls(tab, tmp_path):
    upload = tmp_path / "articles.jsonl"
    lines = [json.dumps({"id": f"s{n:02d}", "text": f"{ARTICLE} Item {n}."}) for n in range(45)]
    upload.write_text("\n".join(lines) + "\n", encoding="utf-8")
    page = tab.open("/")
    tab.use_key()
    page.set_input_files("#file", str(upload))
    page.click("#submitjob")
    _job_id(page)
    page.wait_for_selector('#job[data-status="completed"]')
    cards = page.locator("article.result")
    page.wait_for_function("document.querySelectorAll('article.result').length >= 20")
    seen = cards.count()
    assert seen < 45  # a page at a time, not the whole job
    while seen < 45:
        page.locator("#results-end").scroll_into_view_if_needed()
        page.wait_for_function(f"document.querySelectorAll('article.result').length > {seen}")
        seen = cards.count()
    assert seen == 45 and len(set(cards.evaluate_all("cards => cards.map(c => c.dataset.article)"))) == 45


def test_a_shared_job_url_asks_for_the_key_then_shows_the_job(browser, service, api):
    job = api.post("/v1/jobs", json={"articles": [{"id": "shared-1", "text": ARTICLE}]}).json()
    wait_for_job(api, job["id"])
    owner = Offline(browser, service)
    try:
        owner.open("/")
        owner.use_key()
        owner.page.click(f'#jobs tr[data-job="{job["id"]}"] a')
        shared_url = owner.page.locator("#sharelink").get_attribute("href")
        assert shared_url == f"{service.url}/jobs/{job['id']}" and API_KEY not in shared_url
    finally:
        owner.context.close()
    reader = Offline(browser, service)  # another browser session: no key stored
    try:
        page = reader.page
        page.goto(shared_url)
        page.wait_for_function("document.getElementById('message').textContent.includes('API key')")
        assert page.locator("article.result").count() == 0
        reader.use_key()
        page.wait_for_selector('article.result[data-article="shared-1"] mark')
        assert page.url == shared_url and reader.refused == []
        page.goto(f"{service.url}/?job={job['id']}")  # the query form of the address works too
        page.wait_for_selector('article.result[data-article="shared-1"]')
    finally:
        reader.context.close()


def test_a_wrong_key_is_refused_on_the_page(tab):
    page = tab.open("/")
    tab.use_key("not-a-key")
    page.wait_for_function("document.getElementById('message').textContent.includes('API key')")
    assert page.locator("#jobs tr[data-job]").count() == 0


def test_swagger_ui_and_redoc_render_offline(tab):
    page = tab.open("/docs")
    page.wait_for_selector('.opblock-summary-path[data-path="/v1/jobs/{job_id}/retry"]')
    paths = set(page.locator(".opblock-summary-path").evaluate_all("nodes => nodes.map(n => n.dataset.path)"))
    assert {"/v1/extract", "/v1/jobs", "/v1/jobs/{job_id}/results", "/healthz"} <= paths
    page = tab.open("/redoc")
    page.wait_for_selector("text=Requeue a finished job's failed (and cancelled) articles, under a new deadline.")
    menu = page.locator("[role=menuitem], .menu-content li").all_inner_texts()
    assert any("Create Job" in item for item in menu), menu
