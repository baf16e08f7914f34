"""Scheduled jobs: thin, they call the engine, never a platform SDK.

Four jobs: every minute, send again what a transport could not deliver (a network
outage, a rate limit exhausted, a push held until the sending window opened); every
``RECUEIL_SCHEDULE_SECONDS``, queue the phase announcements that are due
(``config/calendar.toml``, :mod:`bot.app.announcer`); every night, erase the personal data of
agents inactive for ``RECUEIL_RETENTION_MONTHS`` months after the consultation's end, and
forget the text of the messages delivered more than ``RECUEIL_DELIVERY_RETENTION_DAYS`` days ago.
"""

from __future__ import annotations

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.app import announcer
from bot.app.engine import Engine
from bot.app.privacy import erase_inactive_agents, purge_delivered
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
    scheduler.add_job(
        announcer.tick,
        "interval",
        args=[engine],
        seconds=settings.schedule_seconds,
        id="announcements",
        coalesce=True,
        max_instances=1,
    )
    scheduler.add_job(  # a plain function: the scheduler runs it in a thread
        erase_inactive_agents,
        "cron",
        hour=3,
        minute=17,
        args=(engine.store, engine.services),
        id="retention",
        coalesce=True,
        max_instances=1,
    )
    scheduler.add_job(
        purge_delivered,
        "cron",
        hour=3,
        minute=37,
        args=(engine.store, settings.delivery_retention_days),
        id="delivery-retention",
        coalesce=True,
        max_instances=1,
    )
    return scheduler
