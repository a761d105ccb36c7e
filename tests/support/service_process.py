"""A real `extractor serve` process on a free loopback port, for the service tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

EXTRACTOR = str(Path(sys.executable).parent / "extractor")
API_KEY = "test-key-5f2c9a"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def service_env(base_url: str, **settings: str) -> dict[str, str]:
    """A clean environment: nothing from the caller's EXTRACTOR_* settings leaks in."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(("EXTRACTOR_", "OPENAI_"))}
    env.update(
        OPENAI_API_KEY="sk-provider-secret-test",
        EXTRACTOR_PROVIDER="openai",
        EXTRACTOR_BASE_URL=base_url,
        EXTRACTOR_FIXTURES_MODE="off",
        EXTRACTOR_API_KEYS=f"other-key,{API_KEY}",
        EXTRACTOR_REQUEST_TIMEOUT="5",
        EXTRACTOR_TRANSPORT_RETRIES="1",
        EXTRACTOR_BACKOFF_INITIAL="0.005",
        EXTRACTOR_BACKOFF_MAX="0.02",
        EXTRACTOR_MAX_REASKS="1",
        # One process unless a test asks for more: slot counts and in-process counters stay exact.
        EXTRACTOR_SERVICE_WORKERS="1",
    )
    env.update(settings)
    return env


class ServiceProcess:
    """`extractor serve` in a subprocess; stderr (the JSON access log) goes to a file."""

    def __init__(
        self, workdir: Path, env: dict[str, str], state_dir: Path | None = None, args: tuple[str, ...] = ()
    ) -> None:
        self.workdir = workdir
        self.env = env
        self.args = args  # more options of `extractor serve`
        self.state_dir = state_dir or workdir / "state"
        self.log = workdir / "service.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, *, key: str | None = API_KEY, timeout: float = 30) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def start(self) -> ServiceProcess:
        self.port = free_port()
        command = [EXTRACTOR, "serve", "--port", str(self.port), "--state-dir", str(self.state_dir), *self.args]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(command, cwd=self.workdir, env=self.env, stdout=log, stderr=log)
        deadline = time.monotonic() + 180  # generous: importing the service takes long on a loaded machine
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"extractor serve exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError("extractor serve did not start")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def terminate(self, timeout: float = 120) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.terminate()


FINISHED = ("completed", "completed_with_failures", "failed", "cancelled", "expired")


def wait_for_job(
    client: httpx.Client, job_id: str, *, until: str | tuple[str, ...] = FINISHED, timeout: float = 60
) -> dict:
    """The job once its status is `until` (default: any finished status)."""
    wanted = (until,) if isinstance(until, str) else until
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/v1/jobs/{job_id}").json()
        if job["status"] in wanted:
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} not {until}: {job}")
