"""`extractor failures` and `export --include-failures`: why articles failed, without opening SQLite."""

from __future__ import annotations

import csv
import io
import json

from typer.testing import CliRunner

from extractor.cli import app
from extractor.engines import JobStore, batch
from extractor.testing.faultserver import FaultServer, article_text
from tests.support.batch import make_extractor, records

FORMULA_ID = '=HYPERLINK("http://evil","x")'
MARK = "FAIL-ME"


class FailsMarked(FaultServer):
    """HTTP 500 for every article whose text holds MARK; the others are answered."""

    async def _respond(self, request, reader, writer):
        self._fault = "500" if request.body and MARK in article_text(json.loads(request.body)) else "ok"
        return await super()._respond(request, reader, writer)

    def _pick_fault(self) -> str:
        return self._fault


def failed_job(tmp_path):
    """A job store: one article done, two failed at the server (HTTP 500), one unreadable input."""
    done, *failing = records(3)
    articles = [
        done,
        {**failing[0], "text": f"{MARK} {failing[0]['text']}"},
        {"id": FORMULA_ID, "text": f"{MARK} {failing[1]['text']}"},
        {"id": "empty", "text": "  "},
    ]
    db = tmp_path / "job.db"
    with FailsMarked() as server, JobStore(db) as store:
        batch(make_extractor(server, transport_retries=1), articles, store=store)
    return db


def test_failures_lists_each_failed_article_with_cause_status_attempts_and_message(tmp_path):
    db = failed_job(tmp_path)
    result = CliRunner().invoke(app, ["failures", str(db), "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    records_ = {record["id"]: record for record in map(json.loads, result.stdout.splitlines())}
    assert set(records_) == {"a0001", FORMULA_ID, "input:<item 4>"}
    served = records_["a0001"]
    assert (served["cause"], served["http_status"], served["attempts"]) == ("server_error", 500, 2)
    assert served["message"] == "the model server answered HTTP 500" and served["where"] == "<item 2>"
    unread = records_["input:<item 4>"]
    assert unread["cause"] == "input" and unread["http_status"] is None and "empty" in unread["message"]


def test_failures_as_a_table_and_as_csv(tmp_path):
    db = failed_job(tmp_path)
    table = CliRunner().invoke(app, ["failures", str(db)])
    assert table.exit_code == 0
    assert "3 failed articles" in table.stdout and "server_error" in table.stdout and "a0001" in table.stdout
    assert "HYPERLINK" in table.stdout and "input:<item 4>" in table.stdout
    as_csv = CliRunner().invoke(app, ["failures", str(db), "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [row["id"] for row in rows] == ["a0001", "'" + FORMULA_ID, "input:<item 4>"]
    assert rows[0]["http_status"] == "500" and rows[0]["cause"] == "server_error"


def test_failures_of_a_ray_output_read_its_failures_file_older_causes_included(tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text("", encoding="utf-8")
    lines = [
        {"id": "a", "where": "in.jsonl#1", "error_class": "ExtractionFailed", "cause": "http_503", "message": "m"},
        {"id": "b", "where": "in.jsonl#2", "cause": "timeout", "http_status": None, "message": "t", "attempts": 3},
    ]
    (tmp_path / "out.jsonl.failures.jsonl").write_text(
        "".join(json.dumps(x) + "\n" for x in lines) + '{"id": "c', "utf-8"
    )
    result = CliRunner().invoke(app, ["failures", str(out), "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    first, second = map(json.loads, result.stdout.splitlines())
    assert (first["cause"], first["http_status"]) == ("server_error", 503)
    assert (second["cause"], second["attempts"]) == ("timeout", 3)


def test_failures_of_something_else_is_one_line_exit_2(tmp_path):
    (tmp_path / "notes.txt").write_text("hello", encoding="utf-8")
    for given in ("notes.txt", "missing.db"):
        result = CliRunner().invoke(app, ["failures", str(tmp_path / given)])
        assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1


def test_export_includes_failures_as_their_own_records_and_table(tmp_path):
    db = failed_job(tmp_path)
    exported = CliRunner().invoke(app, ["export", str(db), "--include-failures"])
    assert exported.exit_code == 0
    lines = [json.loads(line) for line in exported.stdout.splitlines()]
    # In input order: the result, then the failures, each a record of its own.
    assert ["article" in line for line in lines] == [True, False, False, False]
    assert [line["id"] for line in lines[1:]] == ["a0001", FORMULA_ID, "input:<item 4>"]
    assert all(line["status"] == "failed" and line["cause"] for line in lines[1:])
    without = CliRunner().invoke(app, ["export", str(db)])
    assert len(without.stdout.splitlines()) == 1
    folder = tmp_path / "csv"
    tables = CliRunner().invoke(app, ["export", str(db), "-f", "csv", "-o", str(folder), "--include-failures"])
    assert tables.exit_code == 0 and "failures.csv: 3 rows" in tables.stderr
    with (folder / "failures.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["id"] for row in rows] == ["a0001", "'" + FORMULA_ID, "input:<item 4>"]
