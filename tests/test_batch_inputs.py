"""Bad records are failures of their own: recorded with file and line, never a crash of the job."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from extractor.cli import app
from extractor.engines import JobStore, batch, iter_sources
from extractor.testing.faultserver import FaultServer
from tests.support.batch import make_extractor, records

BAD_RECORDS = [
    ({"id": "obj-title", "title": {"en": "Drills"}, "text": "A drill."}, "title"),
    ({"id": "num-url", "url": 12345, "text": "A drill."}, "url"),
    ({"id": "x" * 201, "text": "A drill."}, "id"),
    ({"id": "long-title", "title": "t" * 1001, "text": "A drill."}, "title"),
    ({"id": ["a", "list"], "text": "A drill."}, "id"),
]


def test_bad_records_fail_alone_and_the_job_goes_on(tmp_path):
    good = records(2)
    jsonl = tmp_path / "in.jsonl"
    lines = [json.dumps(good[0])] + [json.dumps(record) for record, _ in BAD_RECORDS] + [json.dumps(good[1])]
    jsonl.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with FaultServer() as server, JobStore(tmp_path / "job.db") as store:
        outcomes = batch(make_extractor(server), iter_sources([jsonl]), store=store)
        assert server.stats.requests == 2
    failed = {o.where: o for o in outcomes if o.status == "failed"}
    assert sorted(o.key for o in outcomes if o.status == "done") == ["a0000", "a0001"]
    assert set(failed) == {f"{jsonl}:{line}" for line in range(2, 2 + len(BAD_RECORDS))}
    for line, (_, field) in enumerate(BAD_RECORDS, start=2):
        outcome = failed[f"{jsonl}:{line}"]
        assert outcome.cause == "input"
        assert outcome.message.startswith(f"{jsonl}:{line}: {field}")


@pytest.mark.parametrize("record,field", BAD_RECORDS)
def test_extract_on_a_bad_json_article_is_an_input_error(tmp_path, record, field):
    path = tmp_path / "article.json"
    path.write_text(json.dumps(record), encoding="utf-8")
    result = CliRunner().invoke(app, ["extract", str(path), "--provider", "replay"])
    assert result.exit_code == 2, result.output
    assert f"{path}: {field}" in result.output
    assert "Traceback" not in result.output
