"""The scheduled announcements: a periodic tick queues what is due and not yet queued.

Thin: the tick reads the clock and the calendar, asks :mod:`bot.consultation.campaigns`
what is due, and hands each campaign to the engine, which records and queues it in one
transaction and delivers it (pushes wait for the sending window). A restart never sends
an announcement twice: a recorded campaign is never queued again.
"""

from __future__ import annotations

import logging

from bot.app.engine import Engine
from bot.app.referent_calls import queue_referent_calls
from bot.consultation import vote
from bot.consultation.campaigns import (
    announcement_messages,
    campaign_of,
    plan,
    skip,
)
from bot.consultation.closing import closing_messages, is_vote_closing
from config.calendar import Announcement
from storage import campaigns as stored
from storage.ops.supports import SupportTally

log = logging.getLogger(__name__)


async def tick(engine: Engine) -> list[str]:
    """Queue the announcements due now; returns the ids of the campaigns queued."""
    now = engine.clock()
    if not engine.window.is_open(now):
        return []
    services = engine.services
    calendar = services.calendar
    recorded = await engine.run_db(_recorded, engine)
    todo = plan(calendar, calendar.today(now), recorded)
    for announcement, reason in todo.skipped:
        if await engine.run_db(_skip, engine, announcement, reason):
            # Expected after an outage, and shown by « recueil phases » and « !envois »;
            # not a warning, which the terminal chat would print amid the conversation.
            log.info("announcement %s skipped: %s", announcement.id, reason)
    today = calendar.today(now)
    if today > calendar.get("vote").end:
        await engine.close_polls(vote.POLL_PREFIX)  # no vote can be cast any more
    queued: list[str] = []
    for announcement in todo.due:
        if is_vote_closing(announcement):  # written again if the laureates change (closing.py)
            tallies = await engine.run_db(_tallies, engine)
            messages = closing_messages(services, announcement, tallies)
        else:
            messages = announcement_messages(services.catalogue, calendar, announcement)
        count = await engine.announce(campaign_of(calendar, announcement), messages)
        if count is not None:
            log.info("announcement %s queued for %d agents", announcement.id, count)
            queued.append(announcement.id)
    queued += await queue_referent_calls(engine)
    return queued


def _tallies(engine: Engine) -> list[SupportTally]:
    with engine.transaction() as tx:
        return tx.support_tallies()


def _recorded(engine: Engine) -> set[str]:
    with engine.transaction() as tx:
        return stored.recorded(tx)


def _skip(engine: Engine, announcement: Announcement, reason: str) -> bool:
    with engine.transaction() as tx:
        return skip(tx, announcement, reason)
