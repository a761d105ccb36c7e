"""Benchmark: `extractor serve` with its default settings against a 200 ms model, beside the batch engine.

    .venv/bin/python bench/bench_service.py                       # 3 runs: 500 requests at 32, a 2,000-article job
    .venv/bin/python bench/bench_service.py --runs 1 --n 200 --job-n 500
    .venv/bin/python bench/bench_service.py --workers 1 2         # compare worker counts
    .venv/bin/python bench/bench_service.py --replicas 1 2        # 1 and 2 replicas on one PostgreSQL

Every article is the seed article `seeds/000_dc08afd2001463f6.txt` (5.7 KB) under its own id,
with a first line of its own (identical texts are answered from the first one, not asked again).
The fault server (no faults, fixed latency) and the service run as subprocesses on 127.0.0.1;
the service gets only its keys and provider: every other setting is its default (workers,
model slots, queue sizes), unless `--workers` says otherwise.

- "sync": N `POST /v1/extract` at client concurrency C; ideal = N × latency / C.
- "job": one `POST /v1/jobs` of JOB_N articles, polled until finished; ideal = JOB_N × latency / C,
  the same C as the batch engine's.
- "batch": `extractor batch --concurrency C` over the same JOB_N articles (job store and JSONL output).

`--replicas R...`: R `extractor serve` processes (each with its default workers) share one
database on a throwaway PostgreSQL server (Debian's package, `extractor.testing.postgres`),
a fresh database per run; synchronous requests go to the replicas in turn (a round-robin
load balancer), the job is posted to the first and every replica works on it.

"of ideal" = ideal / wall. Service CPU is every service process's CPU time (user + system,
workers included) per article. The load average when each run started is printed: the
machine may be shared. Each row is one run; the last lines give the range over runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from extractor.testing.postgres import PostgresServer, postgres_bin

ROOT = Path(__file__).resolve().parent.parent
EXTRACTOR = str(Path(sys.executable).parent / "extractor")
KEY = "bench-key"
SEED = (ROOT / "seeds" / "000_dc08afd2001463f6.txt").read_text(encoding="utf-8")
FINISHED = ("completed", "completed_with_failures", "failed", "cancelled", "expired")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def article(n: int) -> dict:
    """The seed article under its own id, made a distinct text (identical texts are not asked twice)."""
    return {"id": f"bench-{n}", "text": f"Report {n}.\n\n{SEED}"}


def wait_http(url: str, process: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{url}: the process exited ({process.returncode})")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise SystemExit(f"{url}: not up after {timeout}s")


def tree_cpu(pid: int) -> float:
    """User + system CPU of a process and its live children so far (Linux /proc), in seconds."""
    total = 0.0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(child) for child in children]
    except OSError:
        pass
    for one in pids:
        try:
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            continue
    return total


def percentiles(values: list[float]) -> tuple[float, float, float]:
    if len(values) < 2:
        return (values[0],) * 3 if values else (float("nan"),) * 3
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98]


async def run_sync(urls: list[str], n: int, concurrency: int, first: int = 0) -> tuple[float, list[float], int]:
    """N requests at `concurrency`, sent to the `urls` in turn."""
    latencies: list[float] = []
    errors = 0
    gate = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {KEY}"}, limits=limits, timeout=300) as client:

        async def one(i: int) -> None:
            nonlocal errors
            async with gate:
                started = time.perf_counter()
                response = await client.post(f"{urls[i % len(urls)]}/v1/extract", json=article(first + i))
                latencies.append((time.perf_counter() - started) * 1000)
                errors += response.status_code != 200

        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(n)))
        return time.perf_counter() - started, latencies, errors


def run_job(url: str, n: int) -> tuple[float, list[float], int]:
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {KEY}"}, timeout=300) as client:
        body = "\n".join(json.dumps(article(100_000 + i)) for i in range(n)).encode()
        started = time.perf_counter()
        job = client.post("/v1/jobs", content=body, headers={"content-type": "application/x-ndjson"}).json()
        while (status := client.get(f"/v1/jobs/{job['id']}").json())["status"] not in FINISHED:
            time.sleep(0.1)
        wall = time.perf_counter() - started
        lines = client.get(f"/v1/jobs/{job['id']}/results").text.splitlines()
        latencies = [json.loads(line)["meta"]["latency_ms"] for line in lines]
        return wall, latencies, status["counts"]["failed"]


def run_batch(base_url: str, n: int, concurrency: int, workdir: Path) -> tuple[float, float, int]:
    source = workdir / "batch-in.jsonl"
    source.write_text("".join(json.dumps(article(200_000 + i)) + "\n" for i in range(n)), encoding="utf-8")
    env = bench_env(base_url)
    command = [EXTRACTOR, "batch", str(source), "-o", str(workdir / "batch-out.jsonl"), "-c", str(concurrency)]
    command += ["--quiet", "--json-summary", str(workdir / "summary.json")]
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cpu = 0.0
    while process.poll() is None:
        cpu = max(cpu, tree_cpu(process.pid))
        time.sleep(0.2)
    wall = time.perf_counter() - started
    summary = json.loads((workdir / "summary.json").read_text())
    return wall, cpu, int(summary.get("failed", 0))


def start_postgres() -> PostgresServer:
    """A throwaway PostgreSQL server (Debian's package) for the replicas."""
    bindir = postgres_bin()
    if bindir is None:
        raise SystemExit("--replicas needs PostgreSQL: apt-get install postgresql")
    return PostgresServer(bindir).start()


def bench_env(base_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EXTRACTOR_", "OPENAI_"))}
    env.update(
        OPENAI_API_KEY="sk-bench", EXTRACTOR_PROVIDER="openai", EXTRACTOR_BASE_URL=base_url, EXTRACTOR_API_KEYS=KEY
    )
    return env


@dataclass
class Row:
    mode: str
    n: int
    wall: float
    ideal: float
    latencies: list[float]
    errors: int
    cpu: float

    def cells(self) -> str:
        p50, p95, p99 = percentiles(self.latencies)
        cells = [self.mode, self.n, f"{self.wall:.2f}", f"{self.n / self.wall:.1f}", f"{self.ideal:.2f}"]
        cells += [f"{100 * self.ideal / self.wall:.0f}%", f"{p50:.0f}", f"{p95:.0f}", f"{p99:.0f}", self.errors]
        cells += [f"{self.cpu * 1000 / self.n:.1f}"]
        return "| " + " | ".join(str(cell) for cell in cells) + " |"


def one_run(
    args: argparse.Namespace, workers: int | None, fault_url: str, replicas: int = 1, database_url: str | None = None
) -> list[Row]:
    """The sync and job measures of one service (`replicas` processes on `database_url`, if given)."""
    rows = []
    with tempfile.TemporaryDirectory() as state:
        env = bench_env(fault_url)
        if workers is not None:
            env["EXTRACTOR_SERVICE_WORKERS"] = str(workers)
        if database_url is not None:
            env["EXTRACTOR_DATABASE_URL"] = database_url
        services: list[subprocess.Popen] = []
        urls: list[str] = []
        try:
            for index in range(replicas):
                port = free_port()
                command = [EXTRACTOR, "serve", "--port", str(port), "--state-dir", f"{state}/{index}"]
                services.append(
                    subprocess.Popen(command, cwd=state, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                )
                urls.append(f"http://127.0.0.1:{port}")
            for url, service in zip(urls, services, strict=True):
                wait_http(f"{url}/healthz", service)
            asyncio.run(run_sync(urls, 64 * replicas, args.concurrency, first=1_000_000))  # warm up every worker
            label = f"{workers or 'default'} workers"
            if database_url is not None:
                label = f"{replicas} replica{'s' * (replicas > 1)} on PostgreSQL, {label} each"

            def cpu_now() -> float:
                return sum(tree_cpu(service.pid) for service in services)

            cpu = cpu_now()
            wall, latencies, errors = asyncio.run(run_sync(urls, args.n, args.concurrency))
            ideal = args.n * args.latency / args.concurrency
            rows.append(Row(f"sync /v1/extract ({label})", args.n, wall, ideal, latencies, errors, cpu_now() - cpu))
            cpu = cpu_now()
            wall, latencies, errors = run_job(urls[0], args.job_n)
            ideal = args.job_n * args.latency / args.concurrency
            rows.append(Row(f"job /v1/jobs ({label})", args.job_n, wall, ideal, latencies, errors, cpu_now() - cpu))
        finally:
            for service in services:
                service.terminate()
            for service in services:
                service.wait(60)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500, help="synchronous requests")
    parser.add_argument("--job-n", type=int, default=2000, help="articles of the job (and of the batch run)")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--workers", type=int, nargs="*", default=[], help="worker counts to try (default: the service's)"
    )
    parser.add_argument(
        "--replicas", type=int, nargs="*", default=[], help="replica counts to try on one PostgreSQL database"
    )
    parser.add_argument("--no-batch", action="store_true")
    args = parser.parse_args()
    postgres = start_postgres() if args.replicas else None

    fault_port = free_port()
    fault = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "extractor.testing.faultserver",
            "--port",
            str(fault_port),
            "--latency",
            str(args.latency),
        ],
        stdout=subprocess.DEVNULL,
    )
    fault_url = f"http://127.0.0.1:{fault_port}/v1"
    results: dict[str, list[float]] = {}
    header = (
        "| mode | N | wall s | articles/s | ideal s | of ideal | p50 ms | p95 ms | p99 ms | errors | CPU ms/article |"
    )
    print(
        f"latency {args.latency * 1000:.0f} ms, concurrency {args.concurrency}, {os.cpu_count()} CPUs, seed-sized articles\n"
    )
    print(header)
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    try:
        wait_http(f"http://127.0.0.1:{fault_port}/v1/stats", fault)
        for run in range(args.runs):
            load = os.getloadavg()
            print(f"| run {run + 1}, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} | | | | | | | | | | |")
            for workers in args.workers or ([] if args.replicas else [None]):
                for row in one_run(args, workers, fault_url):
                    print(row.cells(), flush=True)
                    results.setdefault(row.mode, []).append(100 * row.ideal / row.wall)
            for replicas in args.replicas:
                assert postgres is not None
                for row in one_run(args, None, fault_url, replicas, postgres.new_database()):
                    print(row.cells(), flush=True)
                    results.setdefault(row.mode, []).append(100 * row.ideal / row.wall)
            if not args.no_batch:
                with tempfile.TemporaryDirectory() as workdir:
                    wall, cpu, failed = run_batch(fault_url, args.job_n, args.concurrency, Path(workdir))
                row = Row(
                    f"batch engine -c {args.concurrency}",
                    args.job_n,
                    wall,
                    args.job_n * args.latency / args.concurrency,
                    [],
                    failed,
                    cpu,
                )
                print(row.cells(), flush=True)
                results.setdefault(row.mode, []).append(100 * row.ideal / row.wall)
    finally:
        fault.terminate()
        fault.wait(10)
        if postgres is not None:
            postgres.close()
    print()
    for mode, shares in results.items():
        print(f"{mode}: {min(shares):.0f}-{max(shares):.0f}% of ideal over {len(shares)} runs")


if __name__ == "__main__":
    main()
