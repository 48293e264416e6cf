"""What every benchmark shares: a database, pinned processes, the results file (the load
generator, wrk, is `bench.load`).

Servers run pinned to one core and the load generator to another (`taskset`),
Carrier Desk and its reference alternate round by round in the same run, and
each section of `docs/BENCHMARKS.md` is rewritten between its own markers.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Coroutine, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "docs" / "BENCHMARKS.md"
CARRIERDESK = str(Path(sys.executable).with_name("carrierdesk"))
CORES = os.cpu_count() or 1
SERVER_CORE = "0"
LOAD_CORE = "1" if CORES > 1 else "0"


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(coro)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def pinned(argv: list[str], core: str) -> list[str]:
    return ["taskset", "-c", core, *argv] if shutil.which("taskset") else argv


# --- the database -------------------------------------------------------


def server_url() -> str:
    """The PostgreSQL the project would use: `CARRIERDESK_DATABASE_URL`, else embedded."""
    from app.core.database import as_libpq_url

    external = os.environ.get("CARRIERDESK_DATABASE_URL")
    if external:
        return as_libpq_url(external).rsplit("/", 1)[0]
    from app.core.embedded import sqlalchemy_url, start_embedded_server

    server = start_embedded_server(ROOT / ".carrierdesk" / "bench")
    return as_libpq_url(sqlalchemy_url(server, "postgres")).replace("/postgres?", "/{db}?")


def database_url(name: str, server: str | None = None) -> str:
    """Database `name` on `server` (a URL without a database), by default `server_url()`."""
    base = server or server_url()
    if "{db}" in base:
        return base.format(db=name)
    return f"{base}/{name}"


def on_port(server: str, port: int) -> str:
    """The same server URL on another port: a Citus worker beside its coordinator."""
    parts = urlsplit(server)
    user = parts.netloc.rpartition("@")[0]
    netloc = f"{user}@{parts.hostname}:{port}" if user else f"{parts.hostname}:{port}"
    return urlunsplit(parts._replace(netloc=netloc))


async def create_database(name: str, server: str | None = None) -> str:
    conn = await asyncpg.connect(database_url("postgres", server))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return database_url(name, server)


async def fresh_database(prefix: str, server: str | None = None) -> tuple[str, str]:
    name = f"{prefix}_{uuid.uuid4().hex[:6]}"
    return name, await create_database(name, server)


async def drop_database(name: str, server: str | None = None) -> None:
    conn = await asyncpg.connect(database_url("postgres", server))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def fresh_citus_database(
    prefix: str, coordinator: str, worker_ports: Sequence[int]
) -> tuple[str, str]:
    """A new database on the coordinator and on every worker, `citus` in each, the workers
    added to the coordinator's. Returns its name and the coordinator's URL of it."""
    name = f"{prefix}_{uuid.uuid4().hex[:6]}"
    coordinator_port = urlsplit(coordinator).port or 5432
    for port in (coordinator_port, *worker_ports):
        conn = await asyncpg.connect(await create_database(name, on_port(coordinator, port)))
        try:
            await conn.execute("CREATE EXTENSION citus")
        finally:
            await conn.close()
    url = database_url(name, coordinator)
    host = urlsplit(coordinator).hostname
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("SELECT citus_set_coordinator_host($1, $2)", host, coordinator_port)
        for port in worker_ports:
            await conn.execute("SELECT citus_add_node($1, $2)", host, port)
    finally:
        await conn.close()
    return name, url


async def drop_citus_database(name: str, coordinator: str, worker_ports: Sequence[int]) -> None:
    for port in (urlsplit(coordinator).port or 5432, *worker_ports):
        await drop_database(name, on_port(coordinator, port))


async def pg_version(url: str) -> str:
    conn = await asyncpg.connect(url)
    try:
        return str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()


# --- processes ----------------------------------------------------------


class Server:
    def __init__(self, argv: list[str], env: dict[str, str], port: int, core: str) -> None:
        self.port = port
        self.log = tempfile.NamedTemporaryFile(prefix="bench-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(
            pinned(argv, core), cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait(self, path: str = "/healthz", timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(Path(self.log.name).read_text()[-4000:])
            try:
                if httpx.get(self.base + path, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.base}{path} not ready")

    def rss_mb(self) -> float:
        """Resident memory of the server process (the python child under taskset)."""
        pid = self.proc.pid
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks

    def errors(self) -> list[dict[str, Any]]:
        """The ERROR records of the server's JSON log so far (read it before `stop`)."""
        records = []
        for line in Path(self.log.name).read_text(errors="replace").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and record.get("level") == "ERROR":
                records.append(record)
        return records

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        Path(self.log.name).unlink(missing_ok=True)


@contextmanager
def profiled(pid: int, out: str | None) -> Iterator[None]:
    """With `out`, py-spy (run by `uvx`, never a project dependency) samples process `pid`
    meanwhile and writes collapsed stacks to `out`."""
    if not out:
        yield
        return
    argv = ["uvx", "py-spy", "record", "--pid", str(pid), "-f", "raw", "-o", out, "--nonblocking"]
    spy = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield
    finally:
        spy.send_signal(2)
        spy.wait(timeout=60)


def carrierdesk_env(url: str, admin_token: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARRIERDESK_")}
    env.update(
        CARRIERDESK_DATABASE_URL=url,
        CARRIERDESK_ADMIN_TOKEN=admin_token,
        CARRIERDESK_LOG_LEVEL="WARNING",
        CARRIERDESK_WEBHOOK_ALLOW_PRIVATE="true",
    )
    env.update(extra)
    return env


def start_carrierdesk(
    url: str, admin_token: str, *, worker: bool = False, timeout: float = 120
) -> Server:
    """`serve` on the server core, ready (migrated and seeded) within `timeout` seconds."""
    port = free_port()
    argv = [CARRIERDESK, "serve", "--port", str(port)]
    if not worker:
        argv.append("--no-worker")
    server = Server(argv, carrierdesk_env(url, admin_token), port, SERVER_CORE)
    try:
        server.wait("/readyz", timeout)
    except BaseException:
        server.stop()
        raise
    return server


def start_worker(url: str, admin_token: str, core: str = SERVER_CORE, **extra: str) -> Server:
    """`carrierdesk worker` pinned to `core`; `extra` adds to its environment."""
    return Server([CARRIERDESK, "worker"], carrierdesk_env(url, admin_token, **extra), 0, core)


def start_reference(url: str) -> Server:
    port = free_port()
    env = dict(os.environ, REFERENCE_DATABASE_URL=url)
    argv = [
        sys.executable,
        "-m",
        "uvicorn",
        "bench.reference_app:app",
        "--port",
        str(port),
        "--workers",
        "1",
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    server = Server(argv, env, port, SERVER_CORE)
    server.wait("/healthz")
    return server


def admin_token() -> str:
    return "cdk_bench_" + secrets.token_urlsafe(32)


CONTACT = {"name": "NOC duty desk", "phone": "+593 2 400 5124", "email": "noc@acme.example"}


def ticket_body(base: str, auth: dict[str, str]) -> dict[str, Any]:
    """An enterprise in Ecuador and its data service, made through the API; the body of a
    ticket on that service. A fresh server's first requests may be slow (its pool's new
    connections each look their types up first), hence the long timeout."""
    with httpx.Client(base_url=base, headers=auth, timeout=60) as c:
        ent = c.post("/v1/enterprises", json={"name": "Bench", "country": "EC"}).json()["id"]
        svc = c.post(
            f"/v1/enterprises/{ent}/services",
            json={
                "code": "SVC-BENCH",
                "product_line": "data",
                "site": {"address": "Av. Amazonas", "city": "Quito", "country": "EC"},
            },
        ).json()["id"]
    return {
        "enterprise_id": ent,
        "service_id": svc,
        "severity": "major",
        "summary": "Link down at the head office",
        "contact": CONTACT,
    }


# --- reporting ----------------------------------------------------------


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.1f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return (
        f"{cpu}, {CORES} cores{mem}; Linux {platform.release()}; Python "
        f"{platform.python_version()}; shared with other engineers' work (noisy)"
    )


def write_section(name: str, title: str, command: str, body: str) -> None:
    """Replace the section `name` of docs/BENCHMARKS.md (markers keep the others)."""
    RESULTS.parent.mkdir(exist_ok=True)
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmarks\n"
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    block = (
        f"<!-- bench:{name} -->\n## {title}\n\n"
        f"Command: `{command}` — run {stamp}.\n\n"
        f"Machine: {machine()}.\n\n{body.strip()}\n<!-- /bench:{name} -->"
    )
    pattern = re.compile(rf"<!-- bench:{name} -->.*?<!-- /bench:{name} -->", re.S)
    text = (
        pattern.sub(lambda _m: block, text)
        if pattern.search(text)
        else text.rstrip() + "\n\n" + block + "\n"
    )
    RESULTS.write_text(text)
    print(block)  # noqa: T201


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    def cell(v: Any) -> str:
        return f"{v:,.1f}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)
