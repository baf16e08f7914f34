"""Administrators and pushes: ``!envois`` (the calendar's campaigns and their progress) and
``!annoncer AUDIENCE « texte »`` (a message to an audience, after a preview)."""

from __future__ import annotations

from bot.consultation.campaigns import audience_label, progress_report
from bot.consultation.pushes import PUSH_COUNTER, PushDraft
from bot.consultation.referent_calls import planned_in
from bot.dialogue.commands import CommandSpec
from bot.dialogue.parsing import clean_text, text_problem
from bot.dialogue.turn import Turn
from bot.forms.base import text_rule
from bot.scenes.confirm_push import CONFIRM_PUSH
from config.audiences import is_audience
from config.typography import french
from storage import campaigns as stored
from storage.ops.base import proposal_reference
from storage.ops.referents import LAUREATE

TEXT_MAX = 2000


def envois(turn: Turn, argument: str) -> None:
    ctx = turn.ctx
    calendar = ctx.services.calendar
    today = calendar.today(ctx.now)
    progress = stored.progress(ctx.tx)
    calls = planned_in(ctx.tx, calendar, today, ctx.services.settings.referent_call_delay_days)
    turn.say(
        progress_report(
            ctx.t, calendar, today, progress, calls_due=calls.due, calls_upcoming=calls.upcoming
        )
    )


def annoncer(turn: Turn, argument: str) -> None:
    ctx = turn.ctx
    audience, _, text = argument.strip().partition(" ")
    text = clean_text(text.strip().strip('«»"“” ').strip())
    name, colon, reference = audience.partition(":")
    if colon and reference.strip():  # one laureate's: « laureat:p12 » is « laureat:P-012 »
        reference = proposal_reference(reference.strip())
        audience = f"{name}:{reference}"
    if not is_audience(audience) or not text:
        names = [*sorted(stored.AUDIENCES), *(f"{n}:P-012" for n in stored.PER_LAUREATE)]
        turn.say(ctx.t("campaigns.usage", audiences=", ".join(names)))
        return
    if colon:  # as « !nouvelles »: a laureate's audience names a laureate
        detail = ctx.tx.proposal(reference)
        if detail is None or detail.proposal.status != LAUREATE:
            turn.say(ctx.t("push.not_laureate", reference=reference))
            return
    problem = text_problem(text, max_length=TEXT_MAX)
    if problem is not None:
        turn.say(text_rule(ctx, problem, len(text), 1, TEXT_MAX))
        return
    if not stored.recipients(ctx.tx, audience):  # nothing to confirm, no reference spent
        turn.say(ctx.t("campaigns.nobody", audience=audience_label(ctx.t, audience)))
        return
    # written in the bot's name: French spacing, as every text the bot writes
    message = french(text) + "\n\n" + ctx.t("annonces.stop_hint")
    campaign = f"annonce-{ctx.tx.next_reference(PUSH_COUNTER)}"  # M-0001: never reused
    turn.push(CONFIRM_PUSH, **PushDraft(campaign, audience, audience, message).as_data())


COMMANDS = (
    CommandSpec("envois", envois, admin=True),
    CommandSpec("annoncer", annoncer, admin=True),
)
