"""`extractor serve` against the fault server: auth, status codes, extract, jobs, metrics, logs.

One service process per module (started once), talking to a real OpenAI-compatible server
on 127.0.0.1; tests that need a provider misbehaving use a scripted server of their own.
"""

from __future__ import annotations

import http.client
import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="needs the service extra")

from typer.testing import CliRunner

from extractor.cli import app
from extractor.schemas import ArticleExtraction
from extractor.service.auth import is_loopback, key_matches
from extractor.testing.faultserver import INVALID_DRAFT, FaultConfig, FaultServer
from extractor.testing.scripted_server import Reply, ScriptedServer, tool_call_completion
from tests.support.service_process import API_KEY, ServiceProcess, service_env, wait_for_job

ARTICLE = (
    "NATO aircraft joined exercise Steadfast Noon over the North Sea on Monday.\n\n"
    "Officials said B-52 bombers from the United States took part in the annual drill."
)
SECRET_MARKER = "zqxsecretmarker"  # article text that must never reach the log


@pytest.fixture(scope="module")
def fault():
    with FaultServer(FaultConfig(latency=0.01)) as server:
        yield server


@pytest.fixture(scope="module")
def service(fault, tmp_path_factory, module_database):
    env = service_env(
        fault.base_url,
        EXTRACTOR_SERVICE_MAX_BODY_BYTES="200000",
        EXTRACTOR_SERVICE_MAX_JOB_ARTICLES="60",
        EXTRACTOR_SERVICE_CONCURRENCY="4",
        **module_database,
    )
    process = ServiceProcess(tmp_path_factory.mktemp("service"), env).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def api(service):
    with service.client() as client:
        yield client


def records(n: int, prefix: str = "a") -> list[dict]:
    return [
        {"id": f"{prefix}{i}", "text": f"Exercise {prefix}-{i} began with {i} aircraft.\n\n{SECRET_MARKER} {i}"}
        for i in range(n)
    ]


def error_of(response) -> dict:
    """The problem (RFC 9457) of an error answer, as its code and detail."""
    assert response.headers["content-type"] == "application/problem+json", response.headers
    body = response.json()
    assert {"type", "title", "status", "detail", "instance", "request_id", "code"} <= set(body), body
    assert body["status"] == response.status_code and body["type"] == f"urn:extractor:problem:{body['code']}"
    assert body["request_id"] == response.headers["x-request-id"]
    return {**body, "type": body["code"], "message": body["detail"]}


def metric(text: str, name: str, **labels: str) -> float:
    """One sample of the Prometheus text, 0 when absent."""
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        sample, _, value = line.rpartition(" ")
        metric_name, _, label_text = sample.partition("{")
        found = dict(re.findall(r'(\w+)="([^"]*)"', label_text))
        if metric_name == name and found == labels:
            return float(value)
    return 0.0


# -- auth -----------------------------------------------------------------------------------


def test_every_v1_route_needs_a_configured_key(service, api):
    job_id = api.post("/v1/jobs", json={"articles": records(1, "auth")}).json()["id"]
    routes = [
        ("POST", "/v1/extract"),
        ("POST", "/v1/jobs"),
        ("GET", "/v1/jobs"),
        ("GET", f"/v1/jobs/{job_id}"),
        ("GET", f"/v1/jobs/{job_id}/results"),
        ("GET", f"/v1/jobs/{job_id}/failures"),
        ("GET", f"/v1/jobs/{job_id}/review"),
        ("POST", f"/v1/jobs/{job_id}/cancel"),
        ("POST", f"/v1/jobs/{job_id}/retry"),
        ("DELETE", f"/v1/jobs/{job_id}"),
        ("GET", "/metrics"),
        ("GET", "/v1/schema"),
    ]
    for key in (None, "wrong-key", API_KEY[:-1]):
        with service.client(key=key) as client:
            for method, path in routes:
                response = client.request(method, path, json={"text": "x"})
                assert response.status_code == 401, (key, method, path)
                assert error_of(response)["type"] == "unauthorized"
                assert response.headers["www-authenticate"] == "Bearer"
    with service.client(key="other-key") as client:  # any of the configured keys
        assert client.get("/v1/schema").status_code == 200
    with service.client(key=None) as client:  # operational routes stay open, /metrics aside
        for path in ("/healthz", "/readyz", "/openapi.json", "/"):
            assert client.get(path).status_code == 200, path


def test_key_comparison_and_loopback():
    assert key_matches(b"b", [b"a", b"b"]) and not key_matches(b"", [b"a"]) and not key_matches(b"a", [])
    assert all(map(is_loopback, ["127.0.0.1", "::1", "[::1]", "localhost", "127.0.0.2"]))
    assert not any(map(is_loopback, ["0.0.0.0", "10.0.0.1", "example.org", "::"]))


def test_refuses_a_public_address_without_keys(monkeypatch):
    monkeypatch.delenv("EXTRACTOR_API_KEYS", raising=False)
    monkeypatch.chdir(Path(__file__).parent)  # no .env here
    run = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0", "--port", "1"])
    assert run.exit_code == 3
    assert run.output.count("\n") == 1 and "without API keys" in run.output and "Traceback" not in run.output


# -- extract --------------------------------------------------------------------------------


def _without_timing(document: dict) -> dict:
    meta = {k: v for k, v in document["meta"].items() if k not in ("extracted_at", "latency_ms")}
    return {**document, "meta": meta}


def test_sync_extract_equals_the_cli(service, api, tmp_path, monkeypatch):
    article = tmp_path / "steadfast.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    for name, value in service.env.items():  # the same settings as the service
        if name.startswith(("EXTRACTOR_", "OPENAI_")):
            monkeypatch.setenv(name, value)
    cli = CliRunner().invoke(app, ["extract", str(article)])
    assert cli.exit_code == 0, cli.output
    response = api.post("/v1/extract", json={"text": ARTICLE, "id": "steadfast"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    served = response.json()
    ArticleExtraction.model_validate(served)
    assert served["exercises"] and served["aircraft"]
    assert _without_timing(served) == _without_timing(json.loads(cli.stdout))


def test_grounding_query_is_honoured(api):
    strict = api.post("/v1/extract", json={"text": ARTICLE}).json()
    off = api.post("/v1/extract?grounding=off", json={"text": ARTICLE}).json()
    assert strict["exercises"][0]["evidence"][0]["match"] == "exact"
    assert off["exercises"][0]["evidence"][0]["match"] is None


def test_bad_requests_get_their_status_codes(api):
    cases = [
        (api.post("/v1/extract", json={"text": ""}), 422, "invalid_input"),
        (api.post("/v1/extract", json={"title": "no text"}), 422, "invalid_input"),
        (api.post("/v1/extract", json={"text": "x", "colour": "red"}), 422, "invalid_input"),
        (api.post("/v1/extract", json={"text": "x", "published": "May 5th"}), 422, "invalid_input"),
        (api.post("/v1/extract", content=b"{not json"), 422, "invalid_input"),
        (api.post("/v1/extract?grounding=loose", json={"text": "x"}), 422, "invalid_request"),
        (api.post("/v1/extract", json={"text": "x" * 250_000}), 413, "payload_too_large"),
        (api.post("/v1/jobs", json={"articles": records(61)}), 422, "too_many_articles"),
        (api.post("/v1/jobs", json={"articles": []}), 422, "invalid_input"),
        (api.post("/v1/jobs", json={"articles": "many"}), 422, "invalid_input"),
        (api.get("/v1/jobs/nosuchjob"), 404, "not_found"),
        (api.get("/v1/jobs/nosuchjob/results"), 404, "not_found"),
        (api.delete("/v1/jobs/nosuchjob"), 404, "not_found"),
        (api.post("/v1/jobs/nosuchjob/cancel"), 404, "not_found"),
        (
            api.post("/v1/extract", content=b"text", headers={"content-type": "text/plain"}),
            415,
            "unsupported_media_type",
        ),
    ]
    for response, status, type_ in cases:
        assert response.status_code == status, response.text
        assert error_of(response)["type"] == type_


def test_chunked_body_over_the_limit_is_413(api):
    def chunks():
        for _ in range(30):
            yield b"x" * 10_000

    response = api.post("/v1/extract", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413 and error_of(response)["type"] == "payload_too_large"


@pytest.fixture(scope="module")
def scripted(tmp_path_factory):
    """A provider that answers what the test says: invalid drafts, then a refused key."""
    with ScriptedServer([Reply(200, tool_call_completion(INVALID_DRAFT))]) as server:
        process = ServiceProcess(tmp_path_factory.mktemp("scripted"), service_env(server.base_url)).start()
        yield server, process
        process.stop()


def test_provider_failures_are_502_and_503(scripted):
    server, process = scripted
    with process.client() as client:
        failed = client.post("/v1/extract", json={"text": ARTICLE})
        assert failed.status_code == 502
        assert error_of(failed)["type"] == "extraction_failed.invalid_output"
        assert "no valid answer after 2 attempts" in error_of(failed)["message"]
        server.replies.clear()
        server.replies.append(Reply(500, {"error": {"message": "down"}}))
        broken = client.post("/v1/extract", json={"text": ARTICLE})
        assert broken.status_code == 502 and error_of(broken)["type"] == "extraction_failed.server_error"
        server.replies.clear()
        server.replies.append(Reply(401, {"error": {"message": "bad key"}}))
        refused = client.post("/v1/extract", json={"text": ARTICLE})
        assert refused.status_code == 503 and error_of(refused)["type"] == "provider_unavailable"
        assert "sk-provider-secret-test" not in refused.text


# -- jobs -----------------------------------------------------------------------------------


def test_a_50_article_job_gives_results_and_failures(api, fault):
    good = records(46, "job")
    lines = [json.dumps(record) for record in good[:20]]
    lines += [
        "{this is not json",
        "",
        json.dumps({"id": "no-text"}),
        json.dumps({"id": "bad-date", "text": "x", "published": "soon"}),
    ]
    lines += [json.dumps(record) for record in good[20:]]
    lines.append(json.dumps({"id": "job0", "text": "another text under a used id"}))
    body = ("\n".join(lines) + "\n").encode()
    requests_before = fault.stats.requests
    response = api.post("/v1/jobs", content=body, headers={"content-type": "application/x-ndjson"})
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert response.headers["location"] == f"/v1/jobs/{accepted['id']}"
    assert accepted["counts"]["total"] == 50  # stored before the answer: every article counted
    job = wait_for_job(api, accepted["id"])
    assert job["status"] == "completed_with_failures"
    assert job["counts"] == {"total": 50, "done": 46, "failed": 4, "skipped": 0, "pending": 0}
    assert job["usage"]["total_tokens"] > 0 and job["estimated_cost_usd"] > 0
    assert job["finished_at"] and job["created_at"]
    results = api.get(f"/v1/jobs/{accepted['id']}/results")
    assert results.headers["content-type"].startswith("application/x-ndjson")
    ids = [ArticleExtraction.model_validate_json(line).article.id for line in results.text.splitlines()]
    assert sorted(ids) == sorted(record["id"] for record in good)
    failures = [json.loads(line) for line in api.get(f"/v1/jobs/{accepted['id']}/failures").text.splitlines()]
    assert len(failures) == 4 and {f["reason"] for f in failures} == {"input"}
    assert {"id", "reason", "message", "error_class", "http_status", "attempts", "tries"} == set(failures[0])
    assert any("malformed JSON" in f["message"] for f in failures)
    assert any("already used" in f["message"] for f in failures)
    assert fault.stats.requests - requests_before == 46  # one model call per good article
    listed = api.get("/v1/jobs", params={"limit": 100}).json()["data"]
    assert accepted["id"] in [entry["id"] for entry in listed]


def test_json_and_ndjson_jobs_agree(api):
    as_json = api.post("/v1/jobs", json={"articles": [*records(3, "fmt"), 42]}).json()
    body = "\n".join(json.dumps(r) for r in [*records(3, "fmt"), 42]).encode()
    as_ndjson = api.post("/v1/jobs", content=body, headers={"content-type": "application/x-ndjson"}).json()
    first, second = (wait_for_job(api, job["id"]) for job in (as_json, as_ndjson))
    assert first["counts"] == second["counts"] == {"total": 4, "done": 3, "failed": 1, "skipped": 0, "pending": 0}


REPOSITORY = Path(__file__).resolve().parents[1]


def triage_articles(tag: str) -> tuple[dict, list[dict]]:
    """The seed article (on topic) and the off-topic stories, each text marked with `tag` so that
    no other test's identical text is copied instead of sent."""
    seed = next((REPOSITORY / "seeds").glob("*.txt"))
    on_topic = {"id": f"{tag}-seed", "text": f"{seed.read_text(encoding='utf-8')}\n\n({tag})"}
    off_topic = [
        {"id": f"{tag}-{path.stem}", "text": f"{path.read_text(encoding='utf-8')}\n\n({tag})"}
        for path in sorted((REPOSITORY / "tests/data/offtopic").glob("*.txt"))
    ]
    return on_topic, off_topic


def test_a_triage_job_sends_only_the_articles_with_candidates(api, fault):
    on_topic, off_topic = triage_articles("triaged")
    requests_before = fault.stats.requests
    response = api.post("/v1/jobs", json={"articles": [on_topic, *off_topic], "triage": True})
    assert response.status_code == 202, response.text
    n = 1 + len(off_topic)
    assert response.json()["counts"] == {"total": n, "done": 0, "failed": 0, "skipped": 0, "pending": n}
    job = wait_for_job(api, response.json()["id"])
    assert fault.stats.requests - requests_before == 1  # the model saw the on-topic article alone
    assert job["triage"] is True and job["status"] == "completed"
    assert job["counts"] == {"total": n, "done": 1, "failed": 0, "skipped": len(off_topic), "pending": 0}
    assert job["usage"]["model_calls"] == 1
    results = api.get(f"/v1/jobs/{job['id']}/results").text.splitlines()
    assert [ArticleExtraction.model_validate_json(line).article.id for line in results] == [on_topic["id"]]
    assert api.get(f"/v1/jobs/{job['id']}/failures").text == ""

    # The query parameter (what an NDJSON body uses); a job of skipped articles alone is completed.
    body = "\n".join(json.dumps({**record, "id": f"q-{record['id']}"}) for record in off_topic).encode()
    requests_before = fault.stats.requests
    response = api.post("/v1/jobs?triage=true", content=body, headers={"content-type": "application/x-ndjson"})
    job = wait_for_job(api, response.json()["id"])
    assert fault.stats.requests == requests_before
    assert job["triage"] is True and job["status"] == "completed" and job["usage"]["model_calls"] == 0
    assert job["counts"]["skipped"] == job["counts"]["total"] == len(off_topic)
    refused = api.post("/v1/jobs", json={"articles": off_topic, "triage": "yes"})
    assert refused.status_code == 422 and error_of(refused)["code"] == "invalid_input"


def test_without_triage_every_article_is_sent(api, fault):
    on_topic, off_topic = triage_articles("untriaged")
    requests_before = fault.stats.requests
    job_id = api.post("/v1/jobs", json={"articles": [on_topic, *off_topic]}).json()["id"]
    job = wait_for_job(api, job_id)
    n = 1 + len(off_topic)
    assert fault.stats.requests - requests_before == n
    assert job["triage"] is False and job["status"] == "completed"
    assert job["counts"] == {"total": n, "done": n, "failed": 0, "skipped": 0, "pending": 0}


def test_a_text_done_before_for_the_same_key_is_copied_not_sent(api, service, fault):
    """Looked up for a whole claimed batch at once: every repeated text is found, under its new id,
    and only for the key that had it done (another key's identical text is sent)."""
    first = records(6, "again")
    wait_for_job(api, api.post("/v1/jobs", json={"articles": first}).json()["id"])
    renamed = [{**record, "id": f"re-{record['id']}"} for record in first]
    new = records(1, "fresh")
    sent = fault.stats.requests
    job_id = api.post("/v1/jobs", json={"articles": [*renamed, *new]}).json()["id"]
    assert wait_for_job(api, job_id)["counts"]["done"] == 7
    assert fault.stats.requests - sent == 1  # only the new text went to the model
    lines = [json.loads(line) for line in api.get(f"/v1/jobs/{job_id}/results").text.splitlines()]
    copied = {line["article"]["id"]: line for line in lines if line["article"]["id"].startswith("re-")}
    assert sorted(copied) == sorted(record["id"] for record in renamed)
    with service.client(key="other-key") as other:
        sent = fault.stats.requests
        theirs = other.post("/v1/jobs", json={"articles": first[:2]}).json()["id"]
        assert wait_for_job(other, theirs)["counts"]["done"] == 2
        assert fault.stats.requests - sent == 2


def test_an_idle_connection_outlives_a_clients_own_idle_limit(service):
    """A client that reuses a connection idle for 6 s (httpx keeps them 5 s) is answered on it:
    uvicorn's own 5 s closed it under the client, whose POST then failed unsent and unanswered."""
    connection = http.client.HTTPConnection("127.0.0.1", service.port, timeout=30)
    try:
        for idle in (0, 6):  # the same socket both times: http.client reconnects only if we close
            time.sleep(idle)
            connection.request("GET", "/healthz")
            response = connection.getresponse()
            assert response.status == 200 and response.read()
    finally:
        connection.close()


def test_review_page_and_index_are_self_contained(api):
    job = api.post("/v1/jobs", json={"articles": records(2, "rev")}).json()
    wait_for_job(api, job["id"])
    review = api.get(f"/v1/jobs/{job['id']}/review")
    assert review.status_code == 200 and review.headers["content-type"].startswith("text/html")
    assert review.text.count("<mark ") >= 2 and "rev-1" in review.text
    index = api.get("/")
    for page in (review.text, index.text):
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
        assert "@import" not in page


def test_schema_and_openapi(api):
    assert api.get("/v1/schema").json() == ArticleExtraction.model_json_schema()
    paths = api.get("/openapi.json").json()["paths"]
    assert {"/v1/extract", "/v1/jobs", "/v1/jobs/{job_id}/results", "/healthz", "/readyz", "/metrics"} <= set(paths)
    document = api.get("/openapi.json").json()
    body = paths["/v1/extract"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/ArticleRecord"}
    assert "text" in document["components"]["schemas"]["ArticleRecord"]["properties"]


def test_metrics_counters_move(api, service):
    before = service.client().get("/metrics").text
    api.post("/v1/extract", json={"text": ARTICLE})
    service.client(key="nope").get("/v1/jobs")
    job = api.post("/v1/jobs", json={"articles": [{"text": ""}, *records(1, "met")]}).json()
    wait_for_job(api, job["id"])
    after = service.client().get("/metrics").text
    for name, labels, least in [
        ("extractor_extractions_total", {"source": "request", "outcome": "done"}, 1),
        ("extractor_extractions_total", {"source": "job", "outcome": "done"}, 1),
        ("extractor_failures_total", {"reason": "input"}, 1),
        ("extractor_model_calls_total", {}, 2),
        ("extractor_tokens_total", {"kind": "prompt"}, 1),
        ("extractor_extraction_seconds_count", {"source": "request"}, 1),
        ("extractor_http_requests_total", {"route": "/v1/jobs", "method": "GET", "status": "401"}, 1),
        ("extractor_http_requests_total", {"route": "/v1/extract", "method": "POST", "status": "200"}, 1),
    ]:
        assert metric(after, name, **labels) - metric(before, name, **labels) >= least, (name, labels)
    assert metric(after, "extractor_jobs", status="completed_with_failures") >= 1
    assert metric(after, "extractor_queue_depth") == 0


def test_access_log_is_one_json_line_per_request_without_text_or_keys(api, service):
    api.post("/v1/extract", json={"text": f"{ARTICLE} {SECRET_MARKER}"})
    api.get("/v1/jobs/nosuchjob")
    log = service.log.read_text(encoding="utf-8")
    entries = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert entries and all({"request_id", "route", "status", "duration_ms"} <= set(entry) for entry in entries)
    assert any(entry["route"] == "/v1/jobs/{job_id}" and entry.get("job_id") == "nosuchjob" for entry in entries)
    assert any(entry["route"] == "/v1/jobs" and entry["status"] == 202 and entry.get("job_id") for entry in entries)
    for secret in (SECRET_MARKER, API_KEY, "other-key", "sk-provider-secret-test"):
        assert secret not in log


# -- the page in a browser ------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _dump_dom(url: str, tmp_path: Path) -> subprocess.CompletedProcess:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}"]
    return subprocess.run(
        [CHROMIUM, *flags, "--virtual-time-budget=3000", "--dump-dom", url],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="needs chromium on PATH")
def test_job_review_page_runs_in_a_browser(api, tmp_path):
    job = api.post("/v1/jobs", json={"articles": records(2, "brev")}).json()
    wait_for_job(api, job["id"])
    page = tmp_path / "review.html"
    page.write_text(api.get(f"/v1/jobs/{job['id']}/review").text, encoding="utf-8")
    dom = _dump_dom(f"{page.as_uri()}#select=r0-a0", tmp_path)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert dom.stdout.count("<mark ") >= 2
    assert re.search(r'<li class="item t-aircraft active" data-item="r0-a0"', dom.stdout)  # its script ran


def test_service_settings_precedence(monkeypatch, tmp_path):
    from extractor.service.settings import ServiceSettings

    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("EXTRACTOR_SERVICE_CONCURRENCY=5\nEXTRACTOR_SERVICE_DIR=from-dotenv\n")
    monkeypatch.setenv("EXTRACTOR_API_KEYS", " k1 , k2,, ")
    monkeypatch.setenv("EXTRACTOR_SERVICE_DIR", "from-env")
    settings = ServiceSettings()
    assert settings.key_values() == [b"k1", b"k2"]
    assert settings.concurrency == 5 and str(settings.state_dir) == "from-env"
    assert str(ServiceSettings(state_dir="given").state_dir) == "given"
    assert "k1" not in repr(settings)


def test_env_example_documents_every_service_setting(monkeypatch, tmp_path):
    from extractor.service.settings import ServiceSettings

    example = (Path(__file__).resolve().parent.parent / ".env.example").read_text()
    documented = set(
        re.findall(
            r"^(EXTRACTOR_SERVICE_[A-Z_]+|EXTRACTOR_API_KEYS|EXTRACTOR_ADMIN_KEYS|EXTRACTOR_DATABASE_URL)=",
            example,
            re.MULTILINE,
        )
    )
    names = {"EXTRACTOR_API_KEYS", "EXTRACTOR_SERVICE_DIR", "EXTRACTOR_DATABASE_URL"}
    names |= {"EXTRACTOR_ADMIN_KEYS"}
    names |= {f"EXTRACTOR_SERVICE_{name.upper()}" for name in ServiceSettings.model_fields} - {
        "EXTRACTOR_SERVICE_API_KEYS",
        "EXTRACTOR_SERVICE_ADMIN_KEYS",
        "EXTRACTOR_SERVICE_STATE_DIR",
        "EXTRACTOR_SERVICE_DATABASE_URL",
    }
    assert documented == names
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(example)
    loaded = ServiceSettings()  # the documented defaults load as they are
    assert loaded.api_keys == [] and loaded == ServiceSettings(_env_file=None)


def test_without_keys_every_local_caller_is_trusted(fault, tmp_path):
    from fastapi.testclient import TestClient

    from extractor.service import create_app
    from extractor.service.settings import ServiceSettings
    from extractor.settings import Settings

    settings = Settings(provider="openai", base_url=fault.base_url, api_key="sk-x", _env_file=None)
    service = ServiceSettings(api_keys=[], state_dir=tmp_path / "state", _env_file=None)
    with TestClient(create_app(settings, service), base_url="http://127.0.0.1") as client:
        assert client.get("/v1/jobs").json() == {
            "object": "list", "data": [], "first_id": None, "last_id": None, "has_more": False
        }  # fmt: skip
        assert client.get("/readyz").json() == {"status": "ready", "problems": []}
        assert client.get("/metrics").status_code == 200
    assert (tmp_path / "state" / "service.db").is_file()


def test_readyz_says_why_it_is_not_ready(tmp_path):
    from fastapi.testclient import TestClient

    from extractor.service import create_app
    from extractor.service.settings import ServiceSettings
    from extractor.settings import Settings

    with FaultServer() as server:
        base_url = server.base_url
    # the port is closed now: nothing answers there
    settings = Settings(provider="openai", base_url=base_url, api_key="sk-x", fixtures_mode="off", _env_file=None)
    state = tmp_path / "state"
    service = ServiceSettings(state_dir=state, readiness_ttl=0, _env_file=None)
    with TestClient(create_app(settings, service), base_url="http://127.0.0.1") as client:
        answer = client.get("/readyz")
        assert answer.status_code == 503
        assert answer.json()["problems"] == [f"the model server at {base_url} cannot be reached (ConnectError)"]
        state.rename(tmp_path / "elsewhere")  # root may write anywhere: a file where the folder was stops anyone
        state.write_text("")
        answer = client.get("/readyz")
    assert answer.status_code == 503 and any("not writable" in problem for problem in answer.json()["problems"])


def test_a_database_failure_is_logged_and_the_job_resumes(fault, tmp_path, monkeypatch):
    import logging
    import sqlite3
    import time

    from fastapi.testclient import TestClient

    from extractor.service import create_app
    from extractor.service.db import Database
    from extractor.service.settings import ServiceSettings
    from extractor.settings import Settings

    claim = Database.claim

    def broken_disk(self, *args, **kwargs):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(Database, "claim", broken_disk)
    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())  # type: ignore[method-assign]
    logging.getLogger("extractor.service.access").addHandler(handler)
    settings = Settings(provider="openai", base_url=fault.base_url, api_key="sk-x", _env_file=None)
    try:
        service = ServiceSettings(state_dir=tmp_path, _env_file=None)
        with TestClient(create_app(settings, service), base_url="http://127.0.0.1") as client:
            job_id = client.post("/v1/jobs", json={"articles": records(2, "disk")}).json()["id"]
            deadline = time.monotonic() + 120
            while not any("runner_error" in line for line in lines):
                assert time.monotonic() < deadline, lines
                time.sleep(0.02)
            job = client.get(f"/v1/jobs/{job_id}").json()
            assert job["status"] == "queued" and job["counts"]["pending"] == 2 and job["finished_at"] is None
            monkeypatch.setattr(Database, "claim", claim)  # the disk is back
            while (job := client.get(f"/v1/jobs/{job_id}").json())["status"] == "queued":
                assert time.monotonic() < deadline + 120, job
                time.sleep(0.02)
    finally:
        logging.getLogger("extractor.service.access").removeHandler(handler)
    assert {"event": "runner_error", "error": "OperationalError: disk I/O error"} in [
        json.loads(line) for line in lines
    ]


def test_job_text_survives_storage_byte_for_byte(api):
    import hashlib

    text = "Exercise Line began.\u2028Second\u0085line\x0cand\u2029more \u00e9\U0001f6e9."
    records_ = [{"id": "odd-separators", "text": text}]
    job = api.post("/v1/jobs", json={"articles": records_}).json()
    done = wait_for_job(api, job["id"])
    assert done["counts"] == {"total": 1, "done": 1, "failed": 0, "skipped": 0, "pending": 0}
    result = json.loads(api.get(f"/v1/jobs/{job['id']}/results").text)
    assert result["article"]["sha256"] == hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_unreadable_ndjson_lines_are_kept_with_their_reason():
    from extractor.service.intake import INVALID, records_from_ndjson

    lines = records_from_ndjson(b'{"text": "a"}\n\n\xff\xfe\n{bad\n')
    assert [json.loads(line) for line in lines] == [
        {"text": "a"},
        {INVALID: "not valid UTF-8 (byte 0)"},
        {INVALID: "malformed JSON (column 2: Expecting property name enclosed in double quotes)"},
    ]


def test_an_unexpected_error_is_500_in_the_error_shape(tmp_path, monkeypatch):
    from fastapi.testclient import TestClient

    from extractor.service import create_app
    from extractor.service.job_service import JobService
    from extractor.service.settings import ServiceSettings
    from extractor.settings import Settings

    def bug(self, job):
        raise RuntimeError("a bug with /secret/path in it")

    monkeypatch.setattr(JobService, "describe", bug)
    settings = Settings(provider="openai", base_url="http://127.0.0.1:9/v1", api_key="sk-x", _env_file=None)
    app_ = create_app(settings, ServiceSettings(state_dir=tmp_path, _env_file=None))
    with TestClient(app_, raise_server_exceptions=False, base_url="http://127.0.0.1") as client:
        response = client.post("/v1/jobs", json={"articles": records(1, "bug")})
    assert response.status_code == 500
    error = error_of(response)
    assert error["type"] == "internal_error" and "RuntimeError" in error["message"]
    assert "/secret/path" not in response.text
    assert re.search(r"request id [0-9a-f]{16}$", error["message"])  # the id in the access log line
