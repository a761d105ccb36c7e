"""Benchmark: is `/healthz` still quick with 5,000 jobs kept while lists and metrics are polled hard?

    .venv/bin/python bench/bench_service_ops.py                 # 5,000 jobs, 8 pollers, 20 s, 3 runs
    .venv/bin/python bench/bench_service_ops.py --jobs 20000 --pollers 16

The state holds JOBS finished jobs of 20 articles each (written straight into a fresh service
database before the service starts, as a service that ran for months would have kept them).
The service runs with its default settings. POLLERS clients request `GET /v1/jobs?limit=100`
and `GET /metrics` back to back as fast as they can (a dashboard gone wild), while one more
client (in another process than the pollers) asks `/healthz` every 50 ms. Latencies are as the clients saw them; the load average
at the start of each run is printed (the machine may be shared).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_service import EXTRACTOR, KEY, bench_env, free_port, wait_http  # noqa: E402


def fill(state: Path, jobs: int) -> None:
    """JOBS finished jobs of 20 done articles each in a new service database, in one transaction."""
    from extractor.service.db import Database, NewArticle, NewJob
    from extractor.service.db.engine import sqlite_url, transaction

    state.mkdir(parents=True, exist_ok=True)
    db = Database(sqlite_url(state / "service.db"))
    db.migrate()
    now = time.time()
    result = json.dumps({"article": {"id": "x"}, "exercises": [], "aircraft": [], "statements": []})
    with transaction(db.engine, write=True) as connection:
        for n in range(jobs):
            job_id = f"job_bench{n:08d}"
            articles = [
                NewArticle(i, f"a{i}", json.dumps({"id": f"a{i}", "text": f"Text {n} {i}."})) for i in range(20)
            ]
            row, rows = db._job_rows(NewJob(job_id, KEY_ID, None, now - 3600 + n * 0.1, now + 86400, articles))
            for entry in rows:
                entry.update(status="done", result=result, origin="extracted")
            db._count(row, rows, None)
            db._insert_job(connection, row, rows)
    db.close()


KEY_ID = f"sha256:{__import__('hashlib').sha256(KEY.encode()).hexdigest()[:16]}"


def pollers(url: str, count: int, seconds: float, out: Any) -> None:
    """COUNT threads polling for SECONDS, in a process of their own (so that their GIL is not
    the prober's); their latencies go back through `out`."""
    latencies: dict[str, list[float]] = {"/v1/jobs": [], "/metrics": []}
    stop = threading.Event()
    threads = [threading.Thread(target=poll, args=(url, stop, latencies)) for _ in range(count)]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    out.send(latencies)


def poll(url: str, stop: threading.Event, latencies: dict[str, list[float]]) -> None:
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {KEY}"}, timeout=60) as client:
        while not stop.is_set():
            for path in ("/v1/jobs?limit=100", "/metrics"):
                started = time.perf_counter()
                client.get(path).raise_for_status()
                latencies[path.split("?")[0]].append((time.perf_counter() - started) * 1000)


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=5000)
    parser.add_argument("--pollers", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"{args.jobs} jobs kept, {args.pollers} pollers of /v1/jobs?limit=100 and /metrics, {os.cpu_count()} CPUs\n")
    print("| run | load average | route | requests | p50 ms | p95 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as workdir:
        state = Path(workdir) / "state"
        started = time.perf_counter()
        fill(state, args.jobs)
        print(f"(filled in {time.perf_counter() - started:.0f} s)\n", file=sys.stderr)
        for run in range(args.runs):
            port = free_port()
            env = bench_env("http://127.0.0.1:9/v1")
            command = [EXTRACTOR, "serve", "--port", str(port), "--state-dir", str(state)]
            service = subprocess.Popen(
                command, cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            url = f"http://127.0.0.1:{port}"
            try:
                wait_http(f"{url}/healthz", service)
                load = os.getloadavg()
                receiving, sending = multiprocessing.Pipe(duplex=False)
                others = multiprocessing.Process(target=pollers, args=(url, args.pollers, args.seconds, sending))
                others.start()
                healthz: list[float] = []
                with httpx.Client(base_url=url, timeout=60) as client:
                    end = time.monotonic() + args.seconds
                    while time.monotonic() < end:
                        began = time.perf_counter()
                        client.get("/healthz").raise_for_status()
                        healthz.append((time.perf_counter() - began) * 1000)
                        time.sleep(0.05)
                latencies = {**receiving.recv(), "/healthz": healthz}
                others.join()
                for route, values in latencies.items():
                    cells = [run + 1, f"{load[0]:.2f}", route, len(values)]
                    cells += [f"{percentile(values, q):.1f}" for q in (50, 95, 99)] + [f"{max(values):.1f}"]
                    print("| " + " | ".join(str(cell) for cell in cells) + " |", flush=True)
            finally:
                service.terminate()
                service.wait(60)


if __name__ == "__main__":
    main()
