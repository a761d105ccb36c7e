"""Benchmark: `extractor serve` against the fault server, synchronous requests and one job.

    .venv/bin/python bench/bench_service.py                     # N=500, 200 ms, concurrency 32
    .venv/bin/python bench/bench_service.py --n 200 --latency 0.1

The fault server and the service each run in a subprocess on 127.0.0.1 (no faults, fixed
latency). "sync": N POST /v1/extract at the given client concurrency. "job": one POST
/v1/jobs of N articles, polled until done. The service gets as many extraction slots as the
client concurrency, so ideal = N × latency / concurrency for both; "of ideal" = ideal / wall.
"service CPU" is the service process's CPU time over N. Latency percentiles: per request as the client saw it (sync), per article from the
results' meta.latency_ms (job). Errors: non-200 answers (sync), failed articles (job).
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
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
EXTRACTOR = str(Path(sys.executable).parent / "extractor")
KEY = "bench-key"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def article(n: int) -> dict:
    return {
        "id": f"bench-{n}",
        "text": f"Exercise Bench {n} began on Monday with {n % 40 + 2} aircraft over the sea.\n\n"
        f"Officials said the drill number {n} would last a week.",
    }


def wait_http(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
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


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (Linux /proc); 0 where it cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def percentiles(values: list[float]) -> tuple[float, float, float]:
    if len(values) < 2:
        return (values[0],) * 3 if values else (float("nan"),) * 3
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98]


async def run_sync(url: str, n: int, concurrency: int) -> tuple[float, list[float], int]:
    latencies: list[float] = []
    errors = 0
    gate = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=url, headers={"Authorization": f"Bearer {KEY}"}, limits=limits, timeout=120
    ) as client:

        async def one(i: int) -> None:
            nonlocal errors
            async with gate:
                started = time.perf_counter()
                response = await client.post("/v1/extract", json=article(i))
                latencies.append((time.perf_counter() - started) * 1000)
                errors += response.status_code != 200

        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(n)))
        return time.perf_counter() - started, latencies, errors


def run_job(url: str, n: int) -> tuple[float, list[float], int]:
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {KEY}"}, timeout=120) as client:
        body = "\n".join(json.dumps(article(10_000 + i)) for i in range(n)).encode()
        started = time.perf_counter()
        job = client.post("/v1/jobs", content=body, headers={"content-type": "application/x-ndjson"}).json()
        while (status := client.get(f"/v1/jobs/{job['id']}").json())["status"] != "done":
            time.sleep(0.1)
        wall = time.perf_counter() - started
        lines = client.get(f"/v1/jobs/{job['id']}/results").text.splitlines()
        latencies = [json.loads(line)["meta"]["latency_ms"] for line in lines]
        return wall, latencies, status["counts"]["failed"]


def row(
    mode: str, n: int, concurrency: int, latency: float, cpu: float, wall: float, latencies: list[float], errors: int
) -> str:
    ideal = n * latency / concurrency
    p50, p95, p99 = percentiles(latencies)
    cells = [mode, n, concurrency, f"{wall:.2f}", f"{n / wall:.1f}", f"{ideal:.2f}", f"{100 * ideal / wall:.0f}%"]
    cells += [f"{p50:.0f}", f"{p95:.0f}", f"{p99:.0f}", errors, f"{cpu * 1000 / n:.1f}"]
    return "| " + " | ".join(str(cell) for cell in cells) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--latency", type=float, default=0.2)
    args = parser.parse_args()

    fault_port, service_port = free_port(), free_port()
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
    with tempfile.TemporaryDirectory() as state:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("EXTRACTOR_", "OPENAI_"))}
        env.update(
            OPENAI_API_KEY="sk-bench",
            EXTRACTOR_PROVIDER="openai",
            EXTRACTOR_BASE_URL=f"http://127.0.0.1:{fault_port}/v1",
            EXTRACTOR_API_KEYS=KEY,
            EXTRACTOR_SERVICE_CONCURRENCY=str(args.concurrency),
            EXTRACTOR_SERVICE_MAX_WAITING=str(args.n),
        )
        command = [EXTRACTOR, "serve", "--port", str(service_port), "--state-dir", state]
        service = subprocess.Popen(command, cwd=state, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{service_port}"
        try:
            wait_http(f"http://127.0.0.1:{fault_port}/v1/stats", fault)
            wait_http(f"{url}/healthz", service)
            asyncio.run(run_sync(url, min(args.concurrency, 8), args.concurrency))  # warm up: clients, imports
            cpu_start = cpu_seconds(service.pid)
            sync = asyncio.run(run_sync(url, args.n, args.concurrency))
            cpu_sync = cpu_seconds(service.pid)
            job = run_job(url, args.n)
            cpu_job = cpu_seconds(service.pid)
        finally:
            service.terminate()
            service.wait(30)
            fault.terminate()
            fault.wait(10)
    print(f"latency {args.latency * 1000:.0f} ms, N={args.n}, concurrency {args.concurrency}, {os.cpu_count()} CPUs\n")
    print(
        "| mode | N | concurrency | wall s | articles/s | ideal s | of ideal | p50 ms | p95 ms | p99 ms | errors | service CPU ms/article |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    print(row("sync POST /v1/extract", args.n, args.concurrency, args.latency, cpu_sync - cpu_start, *sync))
    print(row("job POST /v1/jobs", args.n, args.concurrency, args.latency, cpu_job - cpu_sync, *job))


if __name__ == "__main__":
    main()
