"""The worker: APScheduler 3 for periodic jobs, asyncio tasks for the precise loops.

APScheduler keeps only an in-memory job store: every durable fact lives in
our tables, and workers coordinate through `FOR UPDATE SKIP LOCKED` claims,
so any number of workers can run and any of them can die.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import event_catalog  # noqa: F401  (fills the event registry)
from app.core.clock import Clock
from app.core.settings import Settings
from app.workers import jobs
from app.workers.context import WorkerContext
from app.workers.listener import listen_forever

logger = logging.getLogger("carrierdesk.worker")


class Worker:
    def __init__(
        self,
        settings: Settings,
        database_url: str,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Clock,
    ) -> None:
        self.ctx = WorkerContext(settings, database_url, sessionmaker, clock)
        self.scheduler = AsyncIOScheduler(
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 30},
        )
        self.tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        channels = jobs.listen_channels()
        if channels:
            self.tasks.append(asyncio.create_task(listen_forever(self.ctx, channels)))
        for loop in jobs.loops():
            self.tasks.append(asyncio.create_task(self._supervise(loop)))
        for job in jobs.periodic_jobs():
            self.scheduler.add_job(
                job.run, "interval", seconds=job.seconds, args=[self.ctx], id=job.name
            )
        self.scheduler.start()
        logger.info(
            "worker started", extra={"loops": len(self.tasks), "jobs": len(jobs.periodic_jobs())}
        )

    async def _supervise(self, loop: jobs.Loop) -> None:
        # A loop that fails (say, the database restarted) is restarted after a
        # pause; it re-reads the database, so nothing due is missed.
        while True:
            try:
                await loop(self.ctx)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception(
                    "worker loop %s failed; restarting", getattr(loop, "__name__", loop)
                )
                await asyncio.sleep(1)

    async def stop(self) -> None:
        self.scheduler.shutdown(wait=False)
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        logger.info("worker stopped")
