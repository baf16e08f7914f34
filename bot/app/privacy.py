"""Personal data over time: the retention jobs, and forgetting an erased agent's last replies.

Thin: each is one transaction around one call into :mod:`storage.privacy` (and, for an
erasure, the files the terminal saved for the agent: :func:`bot.transports.console.forget_files`).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.core.values import ConversationKey
from bot.dialogue.context import Services
from bot.transports.console import ConsoleTransport, files_dir, forget_files
from storage import privacy
from storage.models import utcnow
from storage.store import Store

log = logging.getLogger(__name__)


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time ``months`` months earlier (the month's last day if shorter)."""
    month_index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(month_index, 12)
    for day in range(moment.day, 27, -1):
        try:
            return moment.replace(year=year, month=month + 1, day=day)
        except ValueError:
            continue
    return moment.replace(year=year, month=month + 1, day=min(moment.day, 28))


def erase_inactive_agents(store: Store, services: Services, now: datetime | None = None) -> int:
    """Erase the personal data of agents inactive for ``RECUEIL_RETENTION_MONTHS`` months,
    the files the terminal saved for them included; how many.

    Nothing is erased before the end of the consultation's last phase: an agent who
    contributed at the start is still needed for the vote and the référents.
    """
    settings, calendar = services.settings, services.calendar
    now = now or store.clock()  # the clock that dated the agents' activity
    if calendar.today(now) <= calendar.phases[-1].end:
        return 0
    with store.transaction() as tx:
        erased = privacy.erase_inactive(
            tx,
            inactive_since=months_before(now, settings.retention_months),
            quoted_as=services.catalogue.t("privacy.quoted_erased"),
            now=now,
        )
    files = files_dir(settings.data_dir)
    for transport, user in erased:
        if transport == ConsoleTransport.name:
            forget_files(files, user)
    if erased:
        log.info("retention: personal data of %d inactive agents erased", len(erased))
    return len(erased)


def purge_delivered(store: Store, days: int, now: datetime | None = None) -> tuple[int, int]:
    """Forget the text of the messages delivered more than ``days`` days ago (every night).

    Replies are deleted; a campaign's rows stay, blanked, so that it is never queued twice.
    """
    before = (now or utcnow()) - timedelta(days=days)  # deliveries are dated in real time
    with store.transaction() as tx:
        deleted, blanked = privacy.purge_delivered(tx, before=before)
    if deleted or blanked:
        log.info("retention: %d delivered messages deleted, %d blanked", deleted, blanked)
    return deleted, blanked


def forget_sent(store: Store, key: ConversationKey) -> int:
    """Delete what was delivered to ``key`` (after an erasure, the notice that confirms it)."""
    with store.transaction() as tx:
        return privacy.forget_sent(tx, key.transport, key.chat, key.user)
