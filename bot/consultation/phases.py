"""Where the consultation stands, as told to users: a newcomer's welcome, the menu between
two phases. The dates come from ``config/calendar.toml``."""

from __future__ import annotations

from bot.consultation.contributions import collecte_closed
from bot.dialogue.context import Context
from config.calendar import french_date


def welcome(ctx: Context) -> str:
    """The welcome's paragraph on what can be done now: describe a need during the collecte;
    during the vote, support proposals; and so on. A newcomer after the collecte must not be
    asked for a need they can no longer send."""
    calendar = ctx.services.calendar
    current = calendar.current(ctx.now)
    if current is not None:
        return ctx.t(f"welcome.phase.{current.id}", end=french_date(current.end))
    collecte = calendar.get("collecte")
    if calendar.today(ctx.now) < collecte.start:
        return ctx.t("welcome.phase.before", start=french_date(collecte.start))
    return since_last(ctx)


def since_last(ctx: Context) -> str:
    """Between two phases or after the last: the last one that ended, and what comes next;
    before the first, when the collecte opens."""
    calendar = ctx.services.calendar
    today = calendar.today(ctx.now)
    ended = [phase for phase in calendar.phases if phase.end < today]
    if not ended:
        return collecte_closed(ctx)  # before the collecte: when it opens
    text = ctx.t(f"phase.ended.{ended[-1].id}", end=french_date(ended[-1].end))
    upcoming = calendar.upcoming(ctx.now)
    if upcoming is not None:
        start = french_date(upcoming.start)
        text = f"{text}\n{ctx.t('menu.next', label=upcoming.label, start=start)}"
    return text
