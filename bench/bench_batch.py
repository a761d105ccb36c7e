"""Benchmark: the batch runner against the fault server, versus a plain sequential loop.

    .venv/bin/python bench/bench_batch.py                  # N=500, 200 ms, concurrency 1 8 32 128
    .venv/bin/python bench/bench_batch.py --n 200 --n-serial 50 --latency 0.1
    .venv/bin/python bench/bench_batch.py --concurrency 32 --ray-workers 2 --ray-n 1000 10000  # + --engine ray

The fault server runs in a subprocess (no faults, fixed latency) so the CPU measured here is
the client's alone. "ideal" is N × latency / concurrency; "CPU ms/article" is this process's
CPU time over N (for the Ray rows: this process plus every Ray process: GCS, raylet, actors,
Ray Data tasks); "overhead" is that minus the plain instructor loop's CPU per article.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CORPUS = ROOT / "corpus" / "voa_stories.jsonl"

logging.getLogger("instructor").disabled = True


@dataclass
class Row:
    runner: str
    concurrency: int
    n: int
    wall: float
    cpu: float
    latency: float

    @property
    def ideal(self) -> float:
        return self.n * self.latency / self.concurrency

    def cells(self, plain_cpu_ms: float | None) -> list[str]:
        cpu_ms = self.cpu * 1000 / self.n
        overhead = f"{cpu_ms - plain_cpu_ms:+.1f}" if plain_cpu_ms is not None and self.runner != "plain" else "–"
        return [
            self.runner,
            str(self.concurrency),
            str(self.n),
            f"{self.wall:.2f}",
            f"{self.n / self.wall:.1f}",
            f"{self.ideal:.2f}",
            f"{100 * self.ideal / self.wall:.0f}%",
            f"{cpu_ms:.1f}",
            overhead,
        ]


def articles(n: int) -> list:
    from extractor.input.article import article_from_record

    records = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]
    out = []
    for i in range(n):
        record = dict(records[i % len(records)], id=f"bench-{i}")
        record["text"] += f"\n\n(bench copy {i})"  # distinct texts: nothing is deduplicated
        out.append(article_from_record(record, where=f"bench {i}"))
    return out


def start_server(latency: float) -> tuple[subprocess.Popen, str]:
    command = [sys.executable, "-m", "extractor.testing.faultserver", "--port", "0", "--latency", str(latency)]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline() if process.stdout else ""
    if "listening on " not in line:
        process.kill()
        raise SystemExit(f"the fault server did not start: {line!r}")
    return process, line.rsplit(" ", 1)[1].strip()


def run_plain(base_url: str, items: list, latency: float) -> Row:
    """What a user would write without the batch runner: one instructor call after another."""
    import httpx2
    import instructor
    import openai

    from extractor.prompting import render_messages
    from extractor.schemas import ExtractionDraft

    raw = openai.OpenAI(api_key="bench", base_url=base_url, max_retries=0, http_client=httpx2.Client(timeout=60))
    client = instructor.from_openai(raw, mode=instructor.Mode.TOOLS)
    wall, cpu = time.perf_counter(), time.process_time()
    for article in items:
        client.chat.completions.create(
            model="gpt-4o-mini",
            response_model=ExtractionDraft,
            messages=render_messages(article, article.text),
            max_retries=0,
        )
    return Row("plain", 1, len(items), time.perf_counter() - wall, time.process_time() - cpu, latency)


def run_extractor_loop(base_url: str, items: list, latency: float) -> Row:
    """The same Extractor the batch uses, one article after another: separates our overhead
    (store, scheduling, output) from the extraction pipeline's own (grounding, validation)."""
    from extractor import Extractor

    extractor = Extractor(provider="openai", base_url=base_url, api_key="bench", fixtures_mode="off")

    async def go() -> None:
        for article in items:
            await extractor.aextract_article(article)

    wall, cpu = time.perf_counter(), time.process_time()
    asyncio.run(go())
    return Row("extractor loop", 1, len(items), time.perf_counter() - wall, time.process_time() - cpu, latency)


def run_batch(base_url: str, items: list, concurrency: int, latency: float) -> Row:
    from extractor import Extractor
    from extractor.engines import JobStore, abatch

    extractor = Extractor(provider="openai", base_url=base_url, api_key="bench", fixtures_mode="off")
    with tempfile.TemporaryDirectory() as tmp, JobStore(Path(tmp) / "bench.db") as store:

        async def go() -> int:
            done = 0
            async for outcome in abatch(extractor, items, concurrency=concurrency, store=store):
                done += outcome.status == "done"
            return done

        wall, cpu = time.perf_counter(), time.process_time()
        done = asyncio.run(go())
        row = Row("batch", concurrency, len(items), time.perf_counter() - wall, time.process_time() - cpu, latency)
    if done != len(items):
        raise SystemExit(f"only {done} of {len(items)} articles done at concurrency {concurrency}")
    return row


def tree_cpu_seconds(root: int, *, skip: set[int]) -> float:
    """CPU time of `root`'s descendants (not `skip`'s subtrees), reaped children included.

    A local Ray's GCS, raylet and worker processes descend from the process that called
    ray.init, so this is Ray's whole CPU bill: actors, Ray Data's tasks and Ray itself.
    """
    import os

    ticks = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    cpu: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(entry), int(fields[1])
        children.setdefault(ppid, []).append(pid)
        cpu[pid] = sum(int(value) for value in fields[11:15]) / ticks  # utime stime cutime cstime
    total, todo = 0.0, list(children.get(root, []))
    while todo:
        pid = todo.pop()
        if pid in skip:
            continue
        total += cpu.get(pid, 0.0)
        todo.extend(children.get(pid, []))
    return total


class FirstRequest:
    """When the fault server saw its first request of a run (its /stats, polled every 20 ms)."""

    def __init__(self, base_url: str, started: float) -> None:
        import threading
        import urllib.request

        def requests() -> int:
            with urllib.request.urlopen(base_url.rstrip("/") + "/stats") as reply:
                return int(json.load(reply)["requests"])

        self._before, self._started, self._at = requests(), started, None

        def watch() -> None:
            while self._at is None:
                if requests() > self._before:
                    self._at = time.perf_counter()
                time.sleep(0.02)

        self._thread = threading.Thread(target=watch, daemon=True)
        self._thread.start()

    def seconds(self) -> float:
        self._thread.join()
        return (self._at or self._started) - self._started


def run_ray(base_url: str, items: list, concurrency: int, workers: int, latency: float, server_pid: int) -> Row:
    """`--engine ray`'s path (extract_dataset over an actor pool); CPU = this process + all of Ray."""
    import os

    import ray

    from extractor.ray import extract_dataset

    records = [{"id": a.id, "text": a.text, "title": a.title} for a in items]
    before = time.process_time() + tree_cpu_seconds(os.getpid(), skip={server_pid})
    started = time.perf_counter()
    first_request = FirstRequest(base_url, started)
    dataset = extract_dataset(
        ray.data.from_items(records), provider="openai", base_url=base_url, api_key="bench", fixtures_mode="off",
        workers=workers, concurrency=concurrency,
    )  # fmt: skip
    done = sum(int((batch["status"] == "done").sum()) for batch in dataset.iter_batches(batch_size=None))
    wall = time.perf_counter() - started
    cpu = time.process_time() + tree_cpu_seconds(os.getpid(), skip={server_pid}) - before
    if done != len(items):
        raise SystemExit(f"ray: only {done} of {len(items)} articles done")
    # Start-up (Ray Data's plan, actor processes, imports, the first client) is paid once a
    # job; from the first request on, the job runs at the rate a long job keeps.
    startup = first_request.seconds()
    rate = len(items) / (wall - startup)
    print(
        f"  ray: first request after {startup:.1f} s; from it, {rate:.1f} articles/s "
        f"= {100 * rate * latency / concurrency:.0f}% of the ideal rate ({concurrency / latency:.0f}/s)",
        file=sys.stderr,
    )
    return Row(f"ray ({workers} workers)", concurrency, len(items), wall, cpu, latency)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=500, help="articles per batch run")
    parser.add_argument("--n-serial", type=int, default=None, help="articles for concurrency 1 and plain (default --n)")
    parser.add_argument("--latency", type=float, default=0.2, help="server latency, seconds")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32, 128])
    parser.add_argument("--ray-workers", type=int, default=0, help="also run --engine ray with this many actors")
    parser.add_argument("--ray-n", type=int, nargs="+", default=None, help="articles for the Ray rows (default --n)")
    args = parser.parse_args()
    n_serial = args.n_serial or args.n
    server, base_url = start_server(args.latency)
    try:
        run_batch(base_url, articles(8), 8, args.latency)  # warm-up: imports, schema caches
        rows = [run_plain(base_url, articles(n_serial), args.latency)]
        rows.append(run_extractor_loop(base_url, articles(n_serial), args.latency))
        for concurrency in args.concurrency:
            n = n_serial if concurrency == 1 else args.n
            rows.append(run_batch(base_url, articles(n), concurrency, args.latency))
            print(f"  done: concurrency {concurrency}", file=sys.stderr)
        if args.ray_workers:
            # Started only now: Ray's own processes would otherwise share the cores with the rows above.
            import ray

            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
            ray.data.DataContext.get_current().enable_progress_bars = False
            logging.getLogger("ray.data").setLevel(logging.WARNING)
            # Warm-up, as for the rows above: Ray's own first-use actors and caches. Each timed job
            # still starts its own actor processes (imports, Extractor) inside its wall time.
            run_ray(base_url, articles(64), 32, args.ray_workers, args.latency, server.pid)
            for concurrency in args.concurrency:
                for n in args.ray_n or [args.n] if concurrency > 1 else []:
                    rows.append(run_ray(base_url, articles(n), concurrency, args.ray_workers, args.latency, server.pid))
                    print(f"  done: ray, concurrency {concurrency}, N {n}", file=sys.stderr)
    finally:
        server.terminate()
        server.wait()
    plain_cpu_ms = rows[0].cpu * 1000 / rows[0].n
    loop_cpu_ms = rows[1].cpu * 1000 / rows[1].n
    header = ["runner", "concurrency", "N", "wall s", "articles/s", "ideal s", "of ideal", "CPU ms/article"]
    header += ["vs plain instructor ms", "vs extractor loop ms"]
    print(f"latency {args.latency * 1000:.0f} ms, python {sys.version.split()[0]}")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join([*row.cells(plain_cpu_ms), _delta(row, loop_cpu_ms)]) + " |")


def _delta(row: Row, loop_cpu_ms: float) -> str:
    """The batch runner's own CPU per article: batch minus the same Extractor called in a loop."""
    return (
        f"{row.cpu * 1000 / row.n - loop_cpu_ms:+.1f}"
        if row.runner != "plain" and row.runner != "extractor loop"
        else "–"
    )


if __name__ == "__main__":
    main()
