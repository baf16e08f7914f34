"""Scheduled jobs: thin, they carry ids only and call the engine, never a platform SDK.

For now one job: every minute, send again what a transport could not deliver (a network
outage, a rate limit exhausted). Phase announcements and reminders will join it, driven by
``config/calendar.toml``.
"""

from __future__ import annotations

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.app.engine import Engine
from config.settings import Settings

REDELIVERY_SECONDS = 60


def build_scheduler(engine: Engine, settings: Settings) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone=settings.zone)
    scheduler.add_job(
        engine.redeliver_pending,
        "interval",
        seconds=REDELIVERY_SECONDS,
        id="redeliver",
        coalesce=True,
        max_instances=1,
    )
    return scheduler
