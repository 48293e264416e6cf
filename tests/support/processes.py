"""Real `carrierdesk` processes for the reliability tests.

`ApiProcess` runs `carrierdesk serve --no-worker --port N`, `WorkerProcess` runs
`carrierdesk worker`, both against a committed database (`fresh_database`)
named by `CARRIERDESK_DATABASE_URL`. Each waits for its readiness by polling
with a deadline, can be killed with SIGKILL (no clean-up, like a power cut)
and restarted on the same port. Their output goes to a log file that a failing
test prints.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
CARRIERDESK = str(Path(sys.executable).with_name("carrierdesk"))


# Short, as the lease is renewed while an attempt is in flight: it only says how soon a
# killed worker's claims pass to another.
WEBHOOK_LEASE_SECONDS = 3


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(
    condition: Callable[[], Any], *, timeout: float, interval: float = 0.05, what: str = ""
) -> Any:
    """Poll `condition` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = condition()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what or condition}: {last!r}")


def process_env(database_url: str, admin_token: str, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("CARRIERDESK_") and k != "PYTHONTRACEMALLOC"
    }
    env.update(
        CARRIERDESK_DATABASE_URL=database_url,
        CARRIERDESK_ADMIN_TOKEN=admin_token,
        # The receivers listen on loopback: allowed as an operator would, the guard strict.
        CARRIERDESK_WEBHOOK_ALLOWED_NETWORKS='["127.0.0.1/32"]',
        CARRIERDESK_LOG_LEVEL="WARNING",
        CARRIERDESK_DB_POOL_SIZE="5",
        # A worker killed mid-POST releases its webhook delivery after this.
        CARRIERDESK_WEBHOOK_LEASE_SECONDS=str(WEBHOOK_LEASE_SECONDS),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


@dataclass
class _Process:
    database_url: str
    admin_token: str
    extra_env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path = field(init=False)

    def __post_init__(self) -> None:
        handle, name = tempfile.mkstemp(prefix=f"cd-{self.kind}-", suffix=".log")
        os.close(handle)
        self.log_path = Path(name)

    kind = "process"

    def argv(self) -> list[str]:
        raise NotImplementedError

    def start(self) -> None:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                self.argv(),
                cwd=ROOT,
                env=process_env(self.database_url, self.admin_token, **self.extra_env),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, connections drop mid-transaction."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-8000:]


@dataclass
class ApiProcess(_Process):
    port: int = field(default_factory=free_port)
    kind = "serve"

    def argv(self) -> list[str]:
        return [
            CARRIERDESK,
            "serve",
            "--no-worker",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
        ]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}

    def ready(self) -> bool:
        try:
            return httpx.get(self.base_url + "/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_ready(self, timeout: float = 60) -> None:
        def check() -> bool:
            if not self.alive():
                raise AssertionError(f"serve exited:\n{self.log()}")
            return self.ready()

        wait_until(check, timeout=timeout, interval=0.1, what=f"{self.base_url}/readyz")

    def restart(self) -> None:
        self.kill()
        self.start()
        self.wait_ready()


@dataclass
class WorkerProcess(_Process):
    kind = "worker"

    def argv(self) -> list[str]:
        return [CARRIERDESK, "worker"]


def new_admin_token() -> str:
    return "cdk_test_" + secrets.token_urlsafe(32)


class Fleet:
    """Every process a test started, killed at the end whatever happens."""

    def __init__(self, database_url: str, admin_token: str | None = None) -> None:
        self.database_url = libpq_url(database_url)
        self.admin_token = admin_token or new_admin_token()
        self.processes: list[_Process] = []

    def api(self, **extra_env: str) -> ApiProcess:
        api = ApiProcess(self.database_url, self.admin_token, extra_env)
        self.processes.append(api)
        api.start()
        return api

    def worker(self, **extra_env: str) -> WorkerProcess:
        worker = WorkerProcess(self.database_url, self.admin_token, extra_env)
        self.processes.append(worker)
        worker.start()
        return worker

    def logs(self) -> str:
        return "\n".join(f"--- {p.kind} {p.log_path}\n{p.log()}" for p in self.processes)

    def close(self) -> None:
        for process in self.processes:
            process.kill()
            process.log_path.unlink(missing_ok=True)


def libpq_url(url: str) -> str:
    """The environment variable takes any PostgreSQL URL; pass the plain libpq form."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def fleet_on(database_url: str) -> Iterator[Fleet]:
    """A fixture's body: processes on `database_url`, stopped at the end, their logs printed
    (pytest shows them when the test failed)."""
    fleet = Fleet(database_url)
    try:
        yield fleet
    finally:
        print(fleet.logs())  # noqa: T201
        fleet.close()
