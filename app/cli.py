"""`carrierdesk`: serve, worker, migrate, seed, create-api-client, openapi, permissions."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import signal
import sys
import uuid
from pathlib import Path

from app.core.clock import SystemClock
from app.core.database import create_engine, create_sessionmaker, resolve_database
from app.core.middleware import configure_logging
from app.core.migrations import upgrade_to_head
from app.core.roles import Role
from app.core.settings import Settings, get_settings

logger = logging.getLogger("carrierdesk.cli")


def _prepare(settings: Settings, *, seed: bool = True) -> str:
    """Find (or start) the database, bring its schema to head, seed it. Returns its URL."""
    target = resolve_database(settings)
    upgrade_to_head(target.url)
    if seed:
        asyncio.run(_seed(target.url, settings))
    return target.url


async def _seed(url: str, settings: Settings) -> None:
    from app.seeding import ensure_bootstrap_admin, seed_reference_data

    engine = create_engine(url, pool_size=2)
    try:
        maker = create_sessionmaker(engine)
        async with maker() as session:
            await seed_reference_data(session, SystemClock())
            if settings.admin_token is not None:
                await ensure_bootstrap_admin(
                    session, SystemClock(), settings.admin_token.get_secret_value()
                )
    finally:
        await engine.dispose()


def _settle_the_heap() -> None:
    """Take what a process has built to run (its modules, routes, models, templates) out of the
    garbage collector's walks. It lives as long as the process; left in the oldest generation,
    every full collection walked all of it again, a pause of tens of milliseconds that landed
    on whichever requests were in flight: the p99 of the one-ticket read under load fell from
    ~400 ms to ~30 ms with this alone (docs/BENCHMARKS.md). Garbage is collected first, so only
    what is still alive is set aside."""
    gc.collect()
    gc.freeze()


def cmd_serve(args: argparse.Namespace, settings: Settings) -> None:
    import uvicorn

    from app.main import create_app

    url = _prepare(settings)
    app = create_app(settings, database_url=url, run_worker=not args.no_worker)
    logger.info(
        "serving", extra={"host": args.host, "port": args.port, "worker": not args.no_worker}
    )
    _settle_the_heap()
    if settings.metrics_bind is None:
        uvicorn.run(app, host=args.host, port=args.port, log_config=None, access_log=False)
        return
    from app.routers.health import metrics_app

    # The metrics on an address of their own (the public port answers 404 there): two
    # servers in one loop, the process ends when either does.
    metrics_host, _, metrics_port = settings.metrics_bind.rpartition(":")
    servers = [
        uvicorn.Server(
            uvicorn.Config(app, host=args.host, port=args.port, log_config=None, access_log=False)
        ),
        uvicorn.Server(
            uvicorn.Config(
                metrics_app(),
                host=metrics_host.strip("[]"),
                port=int(metrics_port),
                log_config=None,
                access_log=False,
                lifespan="off",
            )
        ),
    ]
    logger.info("serving metrics", extra={"bind": settings.metrics_bind})

    async def run_both() -> None:
        tasks = [asyncio.create_task(server.serve()) for server in servers]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for server in servers:
            server.should_exit = True
        await asyncio.gather(*tasks)

    asyncio.run(run_both())


def cmd_worker(args: argparse.Namespace, settings: Settings) -> None:
    from app.workers.worker import Worker

    url = _prepare(settings, seed=False)

    async def run() -> None:
        engine = create_engine(url, pool_size=settings.db_pool_size)
        worker = Worker(settings, url, create_sessionmaker(engine), SystemClock())
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await worker.start()
        _settle_the_heap()
        try:
            await stop.wait()
        finally:
            await worker.stop()
            await engine.dispose()

    asyncio.run(run())


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> None:
    _prepare(settings, seed=False)
    print("database schema is at the latest migration")  # noqa: T201


def cmd_seed(args: argparse.Namespace, settings: Settings) -> None:
    _prepare(settings, seed=True)
    print("reference data seeded")  # noqa: T201


def cmd_create_api_client(args: argparse.Namespace, settings: Settings) -> None:
    from app.services.identity.service import insert_api_client

    url = _prepare(settings)
    role = Role(args.role)
    enterprise_ids = [uuid.UUID(e) for e in args.enterprise]

    async def run() -> str:
        engine = create_engine(url, pool_size=1)
        try:
            async with create_sessionmaker(engine)() as session:
                _client, token = await insert_api_client(
                    session,
                    SystemClock(),
                    name=args.name,
                    role=role,
                    enterprise_ids=enterprise_ids,
                    created_by="cli",
                )
                await session.commit()
                return token
        finally:
            await engine.dispose()

    token = asyncio.run(run())
    print(token)  # noqa: T201


def cmd_openapi(args: argparse.Namespace, settings: Settings) -> None:
    from app.openapi_doc import render_openapi

    text = render_openapi()
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text)


def cmd_permissions(args: argparse.Namespace, settings: Settings) -> None:
    from app.permissions import DOC, document_with_table, render_permission_table

    DOC.write_text(document_with_table(DOC.read_text(), render_permission_table()))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="carrierdesk", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the API (and, unless --no-worker, a worker)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--no-worker", action="store_true", help="API only; run `worker` apart")
    serve.set_defaults(func=cmd_serve)

    sub.add_parser("worker", help="run the scheduler: SLA clocks, deliveries").set_defaults(
        func=cmd_worker
    )
    sub.add_parser("migrate", help="alembic upgrade head").set_defaults(func=cmd_migrate)
    sub.add_parser("seed", help="load the handbook's reference data").set_defaults(func=cmd_seed)

    create = sub.add_parser(
        "create-api-client", help="create an API client and print its token once"
    )
    create.add_argument("--role", required=True, choices=[r.value for r in Role])
    create.add_argument(
        "--enterprise", action="append", default=[], help="enterprise id (repeatable)"
    )
    create.add_argument("--name", default="created from the command line")
    create.set_defaults(func=cmd_create_api_client)

    openapi = sub.add_parser("openapi", help="write the OpenAPI document")
    openapi.add_argument("--output", default="openapi/openapi.json")
    openapi.set_defaults(func=cmd_openapi)

    sub.add_parser(
        "permissions", help="write the permission table into docs/SECURITY.md"
    ).set_defaults(func=cmd_permissions)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    settings = get_settings()
    configure_logging(settings.log_level)
    args.func(args, settings)


__all__ = ["json", "main"]
