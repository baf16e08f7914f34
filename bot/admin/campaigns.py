"""Administrators and pushes: ``!envois`` (the calendar's campaigns and their progress) and
``!annoncer AUDIENCE « texte »`` (a message to an audience, after a preview)."""

from __future__ import annotations

from difflib import get_close_matches

from bot.consultation.campaigns import audience_label, progress_report
from bot.consultation.pushes import PushDraft
from bot.consultation.referent_calls import planned_in
from bot.dialogue.commands import CommandSpec
from bot.dialogue.context import Context
from bot.dialogue.parsing import clean_text, fold, text_problem
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
    names = [*sorted(stored.AUDIENCES), *(f"{n}:P-012" for n in stored.PER_LAUREATE)]
    if audience and not is_audience(audience):  # « tous »: say so, and what is
        turn.say(unknown_audience(ctx, audience, names))
        return
    if not text:
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
    # numbered once confirmed (annonce-M-0001): an abandoned draft spends no number
    turn.push(CONFIRM_PUSH, **PushDraft("annonce", audience, audience, message).as_data())


EVERYONE = frozenset({"tous", "toutes", "tout", "tout le monde", "everyone", "all"})
"""Words for « everyone » an administrator may type: the audience is « agents »."""


def unknown_audience(ctx: Context, typed: str, names: list[str]) -> str:
    """« Public « tous » inconnu ; vouliez-vous dire « agents » ? » and the audiences."""
    name = typed.partition(":")[0]
    words = [n.partition(":")[0] for n in names]
    close = get_close_matches(name.casefold(), words, n=1, cutoff=0.6)
    guess = "agents" if fold(name) in EVERYONE else (close[0] if close else None)
    if guess is not None and ":" in typed and guess in stored.PER_LAUREATE:
        guess = f"{guess}:{typed.partition(':')[2]}"
    hint = ctx.t("campaigns.did_you_mean", audience=guess) if guess else ctx.t("campaigns.no_guess")
    return ctx.t("campaigns.unknown", audience=typed, hint=hint, audiences=", ".join(names))


COMMANDS = (
    CommandSpec("envois", envois, admin=True),
    CommandSpec("annoncer", annoncer, admin=True),
)
