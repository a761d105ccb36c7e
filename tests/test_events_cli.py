"""`extractor events`: inputs, outputs, incremental runs, bad input, the timeline page."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from _eventkit import actor, aircraft, exercise, result, statement
from typer.testing import CliRunner

from extractor.cli import app
from extractor.events import merge, read_events, render_timeline


def reports() -> list[dict]:
    return [
        result(
            "a1",
            "2025-07-12",
            exercises=[exercise("drill", name="Freedom Edge", start="2025-07-11")],
            aircraft=[aircraft("B-52H", deployed_to="Guam", count=2)],
        ),
        result(
            "a2",
            "2025-07-13",
            exercises=[exercise("drill", name="Freedom Edge", start="2025-07-12")],
            statements=[statement(actor("KCNA", "PRK"), summary="KCNA condemned the drill", stance="threaten")],
        ),
        result("a3", "2025-08-20", exercises=[exercise("naval drill", kind="naval", start="2025-08-19")]),
    ]


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def run(*args: str):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_jsonl_in_events_out_and_rerun_is_byte_identical(tmp_path):
    source = write_jsonl(tmp_path / "results.jsonl", reports())
    out = tmp_path / "events.jsonl"
    done = run("events", source, "--out", out)
    assert done.exit_code == 0, done.output
    first = out.read_text(encoding="utf-8")
    lines = [json.loads(line) for line in first.splitlines()]
    # ordered by first report, then id
    assert [(e["type"], len(e["sources"])) for e in lines] == [
        ("deployment", 1),
        ("exercise", 2),
        ("statement", 1),
        ("exercise", 1),
    ]
    assert list(lines[0])[:2] == ["id", "type"] and list(lines[0])[-1] == "sources"
    assert run("events", source, "--out", out).exit_code == 0
    assert out.read_text(encoding="utf-8") == first
    assert [e.id for e in read_events(out)] == [e["id"] for e in lines]


def test_folder_of_json_and_batch_records(tmp_path):
    folder = tmp_path / "results"
    folder.mkdir()
    for record in reports()[:2]:
        (folder / f"{record['article']['id']}.json").write_text(json.dumps(record), encoding="utf-8")
    (folder / "notes.txt").write_text("not a result", encoding="utf-8")
    wrapped = write_jsonl(tmp_path / "batch.jsonl", [{"key": "a3", "status": "done", "result": reports()[2]}])
    out = tmp_path / "events.jsonl"
    assert run("events", folder, wrapped, "--out", out).exit_code == 0
    assert [e.id for e in read_events(out)] == [e.id for e in merge(reports())]


def test_batch_job_store(tmp_path):
    from extractor.input.article import make_article
    from extractor.input.sources import SourcedArticle
    from extractor.jobs.outcome import Outcome
    from extractor.jobs.store import JobStore

    db = tmp_path / "job.db"
    with JobStore(db) as store:
        records = reports()
        articles = [
            SourcedArticle("x", make_article(f"text {r['article']['id']}", article_id=r["article"]["id"]))
            for r in records
        ]
        store.register(articles, fingerprint="f")
        for record in records:
            store.record(Outcome(key=record["article"]["id"], status="done", line=json.dumps(record), attempts=1))
    out = tmp_path / "events.jsonl"
    done = run("events", db, "--out", out)
    assert done.exit_code == 0, done.output
    assert len(read_events(out)) == 4


def test_csv_format(tmp_path):
    source = write_jsonl(tmp_path / "results.jsonl", reports())
    out = tmp_path / "events.csv"
    assert run("events", source, "--out", out, "--format", "csv").exit_code == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [r["type"] for r in rows] == ["deployment", "exercise", "statement", "exercise"]
    assert rows[1]["articles"] == "a1; a2" and rows[1]["sources"] == "2"
    assert json.loads(rows[1]["conflicts"])[0]["field"] == "start_date"


def test_incremental_into_keeps_ids_of_unchanged_events(tmp_path):
    out = tmp_path / "events.jsonl"
    assert run("events", write_jsonl(tmp_path / "r1.jsonl", reports()[:2]), "--out", out).exit_code == 0
    before = {e.id: e.model_dump() for e in read_events(out)}
    more = [
        reports()[2],
        result("a4", "2025-07-14", exercises=[exercise("drill", name="Freedom Edge 2025", start="2025-07-11")]),
    ]
    done = run("events", write_jsonl(tmp_path / "r2.jsonl", more), "--into", out, "--out", out)
    assert done.exit_code == 0, done.output
    after = {e.id: e for e in read_events(out)}
    assert set(before) < set(after)
    exercise_id = next(i for i, e in before.items() if e["type"] == "exercise")
    assert [s.article_id for s in after[exercise_id].sources] == ["a1", "a2", "a4"]
    for event_id, data in before.items():
        if event_id != exercise_id:
            assert after[event_id].model_dump() == data


@pytest.mark.parametrize(
    ("setup", "args", "message"),
    [
        (None, ["missing.jsonl"], "no such file"),
        ("bad.jsonl", ["bad.jsonl"], "malformed JSON"),
        ("wrong.jsonl", ["wrong.jsonl"], "not an ArticleExtraction"),
        ("ok.jsonl", ["ok.jsonl", "--format", "xml"], "--format"),
        ("ok.jsonl", ["ok.jsonl", "--into", "nope.jsonl"], "no such events file"),
        ("ok.jsonl", ["ok.jsonl", "--into", "bad.jsonl"], "not an event"),
        ("fake.db", ["fake.db"], "not a readable batch job store"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, monkeypatch, setup, args, message):
    monkeypatch.chdir(tmp_path)
    write_jsonl(tmp_path / "ok.jsonl", reports())
    (tmp_path / "bad.jsonl").write_text('{"article": \n', encoding="utf-8")
    write_jsonl(tmp_path / "wrong.jsonl", [{"article": {"id": "x"}}])
    (tmp_path / "fake.db").write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)
    done = CliRunner().invoke(app, ["events", *args, "--out", "events.jsonl"])
    assert done.exit_code == 2, done.output
    assert message in done.stderr and "Traceback" not in done.output
    assert len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "events.jsonl").exists()


# -- the timeline page ----------------------------------------------------------------------


def hostile_reports() -> list[dict]:
    records = reports()
    records[1]["article"]["title"] = "<script>alert('title')</script>"
    records[1]["statements"][0]["summary"] = "KCNA said <img src=x onerror=alert(1)> & more"
    records[1]["statements"][0]["targets"] = [actor('O\'Neil "<b>x</b>" & Co')]
    return records


def test_timeline_is_self_contained_and_escaped(tmp_path):
    source = write_jsonl(tmp_path / "results.jsonl", hostile_reports())
    page = tmp_path / "timeline.html"
    assert run("events", source, "--out", tmp_path / "e.jsonl", "--html", page).exit_code == 0
    html = page.read_text(encoding="utf-8")
    assert "<script>alert" not in html and "<img src=x" not in html and "<b>x</b>" not in html
    assert "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt; &amp; more" in html
    # nothing fetched: no external script, style, image or font
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", html)
    assert html.count('<article class="event') == 4
    assert '<option value="KCNA">KCNA</option>' in html
    assert "August 2025" in html and "July 2025" in html
    # sources are links to the articles, conflicts are shown
    assert 'href="https://example.org/a2"' in html and "start_date" in html


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
browser = pytest.mark.skipif(CHROMIUM is None, reason="needs chromium on PATH")


def _dump_dom(url: str, tmp_path: Path) -> str:
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=2000",
        "--dump-dom",
    ]
    done = subprocess.run([CHROMIUM, *flags, url], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.browser
@browser
def test_browser_filters_by_kind_and_participant_and_opens_sources(tmp_path):
    page = tmp_path / "timeline.html"
    page.write_text(render_timeline(merge(hostile_reports())), encoding="utf-8")
    events = merge(hostile_reports())
    statement_id = next(e.id for e in events if e.type == "statement")
    dom = _dump_dom(f"{page.as_uri()}#kind=statement&open={statement_id}", tmp_path)
    assert "1 of 4 events" in dom
    assert len(re.findall(r'<article class="event[^"]*"[^>]*hidden', dom)) == 3
    assert re.search(rf'id="{statement_id}"[^>]*>\s*<details open', dom)
    assert "<script>alert" not in dom
    dom = _dump_dom(f"{page.as_uri()}#actor=KCNA", tmp_path)
    assert "1 of 4 events" in dom
    dom = _dump_dom(f"{page.as_uri()}#kind=exercise", tmp_path)
    assert "2 of 4 events" in dom


def test_reading_a_store_leaves_it_alone(tmp_path):
    """A running job's articles stay `running`, and an unrelated SQLite file gets no tables."""
    import sqlite3

    from extractor.input.article import make_article
    from extractor.input.sources import SourcedArticle
    from extractor.jobs.outcome import Outcome
    from extractor.jobs.store import JobStore

    db = tmp_path / "job.db"
    with JobStore(db) as store:
        record = reports()[0]
        store.register(
            [
                SourcedArticle("x", make_article("t1", article_id="a1")),
                SourcedArticle("y", make_article("t2", article_id="b2")),
            ],
            fingerprint="f",
        )
        store.record(Outcome(key="a1", status="done", line=json.dumps(record), attempts=1))
        store.started("b2")
        assert run("events", db, "--out", tmp_path / "e.jsonl").exit_code == 0
        assert store.get("b2").status == "running"
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE notes (x)")
    done = run("events", other, "--out", tmp_path / "e2.jsonl")
    assert done.exit_code == 2 and "not a readable batch job store" in done.stderr
    with sqlite3.connect(other) as conn:
        assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master")] == ["notes"]


NODE = shutil.which("node")

# A minimal DOM with just what the page's script touches, built from the page's own markup,
# so the filter logic runs where no browser is installed (the browser test above is the real one).
DOM_SHIM = r"""
const page = JSON.parse(require("fs").readFileSync(0, "utf8"));
function element(attrs) {
  return Object.assign({ hidden: false, value: "", textContent: "", listeners: {},
    getAttribute(name) { return attrs[name]; },
    addEventListener(type, fn) { this.listeners[type] = fn; } }, attrs.props || {});
}
const events = page.events.map(e => Object.assign(element({ "data-kind": e.kind, "data-actors": e.actors }),
  { id: e.id, month: e.month, details: { open: false }, querySelector() { return this.details; } }));
const sections = [...new Set(page.events.map(e => e.month))].map(month => Object.assign(element({}), {
  month, querySelector() { return events.find(e => e.month === month && !e.hidden) || null; } }));
const byId = { kind: element({}), actor: element({}), shown: element({}) };
events.forEach(e => { byId[e.id] = e; });
global.document = {
  getElementById: id => byId[id] || null,
  querySelectorAll: sel => sel === "article.event" ? events : sel === "section.month" ? sections : [],
};
global.location = { hash: page.hash, pathname: "/timeline.html", search: "" };
global.history = { replaceState(_, __, url) { global.location.hash = url.startsWith("#") ? url : ""; } };
eval(page.script);
if (page.change) { byId[page.change[0]].value = page.change[1]; byId[page.change[0]].listeners.change(); }
console.log(JSON.stringify({ shown: byId.shown.textContent, hidden: events.filter(e => e.hidden).map(e => e.id),
  open: events.filter(e => e.details.open).map(e => e.id), hiddenMonths: sections.filter(s => s.hidden).map(s => s.month),
  hash: global.location.hash }));
"""


def _run_script(html: str, hash_: str, change: tuple[str, str] | None = None) -> dict:
    import html as html_lib

    script = re.search(r"<script>(.*?)</script>", html, re.S).group(1)
    events, month = [], None
    for match in re.finditer(
        r"<h2>([^<]*)</h2>|<article class=\"event[^\"]*\" id=\"([^\"]+)\" data-kind=\"([^\"]+)\" data-actors='([^']*)'",
        html,
    ):
        if match.group(1):
            month = match.group(1)
        else:
            events.append(
                {
                    "id": match.group(2),
                    "kind": match.group(3),
                    "actors": html_lib.unescape(match.group(4)),
                    "month": month,
                }
            )
    page = {"script": script, "events": events, "hash": hash_, "change": change}
    done = subprocess.run([NODE, "-e", DOM_SHIM], input=json.dumps(page), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.skipif(NODE is None, reason="needs node on PATH")
def test_timeline_script_filters_and_opens(tmp_path):
    events = merge(hostile_reports())
    html = render_timeline(events)
    ids = {e.type: e.id for e in events}
    everything = _run_script(html, "")
    assert everything["shown"] == "4 of 4 events" and everything["hidden"] == []
    statements = _run_script(html, f"#kind=statement&open={ids['statement']}")
    assert statements["shown"] == "1 of 4 events"
    assert sorted(statements["hidden"]) == sorted(e.id for e in events if e.type != "statement")
    assert statements["open"] == [ids["statement"]]
    assert statements["hiddenMonths"] == ["August 2025"]
    by_actor = _run_script(html, "", change=("actor", "KCNA"))
    assert by_actor["shown"] == "1 of 4 events" and by_actor["hash"] == "#actor=KCNA"
    quoted = _run_script(html, "", change=("actor", 'O\'Neil "<b>x</b>" & Co'))
    assert quoted["shown"] == "1 of 4 events"
    by_country = _run_script(html, "#kind=exercise&actor=Japan")
    assert by_country["shown"] == "2 of 4 events"
