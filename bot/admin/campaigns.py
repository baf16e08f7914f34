"""Administrators and pushes: ``!envois`` (the calendar's campaigns and their progress) and
``!annoncer AUDIENCE « texte »`` (a message to an audience, after a preview)."""

from __future__ import annotations

from bot.consultation.campaigns import plan
from bot.dialogue.commands import CommandSpec
from bot.dialogue.parsing import clean_text, text_problem
from bot.dialogue.turn import Turn
from bot.scenes.announce import ANNOUNCE
from config.calendar import french_date
from storage import campaigns as stored

TEXT_MAX = 2000
UPCOMING_SHOWN = 3


def envois(turn: Turn, argument: str) -> None:
    turn.say(campaigns_report(turn))


def campaigns_report(turn: Turn) -> str:
    ctx = turn.ctx
    calendar = ctx.services.calendar
    progress = stored.progress(ctx.tx)
    lines = [ctx.t("campaigns.title", count=len(progress))]
    for item in progress:
        lines.append(
            ctx.t(
                f"campaigns.item.{'skipped' if item.status == 'skipped' else 'queued'}",
                id=item.id,
                audience=item.audience,
                recipients=item.recipients,
                sent=item.sent,
                pending=item.pending,
                failed=item.failed,
                blocked=item.blocked,
            )
        )
    recorded = {item.id for item in progress}
    today = calendar.today(ctx.now)
    due = plan(calendar, today, recorded).due
    upcoming = [a for a in calendar.announcements() if a.id not in recorded and a.on > today]
    for announcement in due:
        lines.append(ctx.t("campaigns.due", id=announcement.id, audience=announcement.audience))
    for announcement in upcoming[:UPCOMING_SHOWN]:
        lines.append(
            ctx.t(
                "campaigns.upcoming",
                id=announcement.id,
                date=french_date(announcement.on),
                audience=announcement.audience,
            )
        )
    return "\n".join(lines)


def annoncer(turn: Turn, argument: str) -> None:
    ctx = turn.ctx
    audience, _, text = argument.strip().partition(" ")
    text = clean_text(text.strip().strip('«»"“” ').strip())
    if audience not in stored.AUDIENCES or not text:
        names = ", ".join(sorted(stored.AUDIENCES))
        turn.say(ctx.t("campaigns.usage", audiences=names))
        return
    problem = text_problem(text, max_length=TEXT_MAX)
    if problem is not None:
        turn.say(ctx.t(f"input.{problem.value}", length=len(text), min=1, max=TEXT_MAX))
        return
    count = len(stored.recipients(ctx.tx, audience))
    turn.push(ANNOUNCE, audience=audience, text=text, count=count)


COMMANDS = (
    CommandSpec("envois", envois, admin=True),
    CommandSpec("annoncer", annoncer, admin=True),
)
