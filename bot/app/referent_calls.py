"""The announcer's step for the référent calls: thin, like the tick that runs it.

Reads the laureates and the campaigns already recorded, asks
:mod:`bot.consultation.referent_calls` which calls are due, and hands each to
:meth:`Engine.announce` (recorded and queued in one transaction, never twice).
"""

from __future__ import annotations

import logging

from bot.app.engine import Engine
from bot.consultation.referent_calls import call_messages, due_calls
from storage import campaigns as stored
from storage.ops.referents import LAUREATE
from storage.records import ProposalRecord

log = logging.getLogger(__name__)


async def queue_referent_calls(engine: Engine) -> list[str]:
    """Queue the référent calls due now; returns the ids of the campaigns queued."""
    services = engine.services
    calendar = services.calendar
    laureates, recorded = await engine.run_db(_read, engine)
    day = calendar.today(engine.clock())
    delay = services.settings.referent_call_delay_days
    queued: list[str] = []
    for campaign, laureate in due_calls(calendar, day, delay, laureates, recorded):
        messages = call_messages(services.catalogue, calendar, laureate, laureates)
        count = await engine.announce(campaign, messages)
        if count is not None:
            log.info("référent call %s queued for %d agents", campaign.id, count)
            queued.append(campaign.id)
    return queued


def _read(engine: Engine) -> tuple[list[ProposalRecord], set[str]]:
    with engine.transaction() as tx:
        laureates = [p for p in tx.proposals() if p.status == LAUREATE]
        return laureates, stored.recorded(tx)
