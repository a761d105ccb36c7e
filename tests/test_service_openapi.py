"""The OpenAPI document is the API: schemathesis (`st run --checks all`) over every operation of
a real `extractor serve` finds nothing.

Bounded: a fixed seed and a few examples per operation, so the run stays around a minute; the
model is the fault server (fast, always answering), so a 5xx is the service's own doing.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="needs the service extra")
pytest.importorskip("schemathesis", reason="needs the dev extra")

from extractor.testing.faultserver import FaultConfig, FaultServer
from tests.support.service_process import API_KEY, ServiceProcess, service_env

ST = shutil.which("st", path=str(Path(sys.executable).parent))
EXAMPLES = 8
SEED = 20260101


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    with FaultServer(FaultConfig(latency=0.0)) as model:
        env = service_env(
            model.base_url, EXTRACTOR_FIXTURES_MODE="off", EXTRACTOR_SERVICE_MAX_JOB_ARTICLES="50",
            EXTRACTOR_SERVICE_MAX_BODY_BYTES="2000000",
        )  # fmt: skip
        process = ServiceProcess(tmp_path_factory.mktemp("openapi"), env).start()
        yield process
        process.stop()


def run_schemathesis(url: str, workdir: Path, *headers: str) -> subprocess.CompletedProcess[str]:
    assert ST is not None
    command = [ST, "run", f"{url}/openapi.json", "--checks", "all", "-n", str(EXAMPLES), "--seed", str(SEED)]
    command += ["--request-timeout", "60", "--no-color"]
    for header in headers:
        command += ["-H", header]
    return subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=600, check=False)


def test_schemathesis_finds_nothing(served, tmp_path):
    run = run_schemathesis(served.url, tmp_path, f"Authorization: Bearer {API_KEY}")
    summary = run.stdout[run.stdout.find("FAILURES") :][:6000]
    assert run.returncode == 0, summary + run.stderr[-2000:]
    assert "Selected: 15/15" in run.stdout and "Tested: 15" in run.stdout, summary


def test_the_document_says_how_to_authenticate_and_what_fails(served):
    with served.client() as client:
        document = client.get("/openapi.json").json()
    assert document["components"]["securitySchemes"] == {"bearer": {"type": "http", "scheme": "bearer"}}
    extract = document["paths"]["/v1/extract"]["post"]
    assert extract["security"] == [{"bearer": []}]
    for status in ("401", "413", "415", "422", "429", "502", "503"):
        content = extract["responses"][status]["content"]
        assert content == {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    results = document["paths"]["/v1/jobs/{job_id}/results"]["get"]["responses"]["200"]["content"]
    assert list(results) == ["application/x-ndjson"]
    record = document["components"]["schemas"]["ArticleRecord"]
    assert record["properties"]["text"]["minLength"] == 1 and record["properties"]["text"]["maxLength"] > 0
    assert document["components"]["schemas"]["JobRequest"]["properties"]["articles"]["maxItems"] == 50
    assert "HTTPValidationError" not in document["components"]["schemas"]
