"""Territoires référents: ``volontaire`` (the form), ``mes engagements``. Withdrawing an
offer is ``retirer V-0001`` (the vote's ``retirer``, dispatched on the reference)."""

from __future__ import annotations

from typing import Any

from bot.consultation import referents
from bot.dialogue.commands import CommandSpec
from bot.dialogue.turn import Turn
from config.calendar import french_date


def volontaire(turn: Turn, argument: str) -> None:
    ctx = turn.ctx
    refused = referents.start_refusal(ctx)
    if refused is not None:
        turn.say(refused)
        return
    stack = turn.state.stack
    started = next(
        (i for i, f in enumerate(stack) if f.form and f.form.name == referents.FORM), None
    )
    if started is not None:  # already being filled: that form goes on, never a second one
        del stack[started + 1 :]
        turn.say(ctx.t("referents.resumed"))
        turn.return_to_form()
        return
    answers = referents.initial_answers(ctx)
    end = french_date(ctx.services.calendar.get("referents").end)
    turn.say(ctx.t("referents.intro", end=end))
    turn.start_form(referents.FORM, answers)


def modifier_engagement(turn: Turn, argument: str) -> None:
    """``modifier V-0001``: the volunteering form for its laureate, with the offer's answers,
    opened on its summary to change what changed (the élu agreed, another contact)."""
    ctx = turn.ctx
    refused = referents.refusal(ctx)
    if refused is not None:
        turn.say(refused)
        return
    reference = referents.references(argument)[0]
    proposal = next((p for p, o in referents.updatable(ctx).items() if o == reference), None)
    if proposal is None:
        turn.say(referents.update_refusal(ctx, reference))
        return
    answers: dict[str, Any] = {"laureats": [proposal], **referents.initial_answers(ctx)}
    turn.say(referents.prefill(ctx, answers, [proposal]) or "")
    turn.start_form(referents.FORM, answers)


def mes_engagements(turn: Turn, argument: str) -> None:
    turn.say(referents.mine(turn.ctx))


COMMANDS = (
    CommandSpec(
        "volontaire",
        volontaire,
        aliases=("me porter volontaire", "se porter volontaire", "porter volontaire"),
        menu=True,
        profile=True,
        opens="referents",
        closes="referents",
    ),
    CommandSpec(
        "modifier engagement",
        modifier_engagement,
        aliases=("modifier",),  # « modifier » alone edits the form being filled
        argument=referents.OFFER,
        profile=True,
        opens="referents",
    ),
    CommandSpec(
        "mes engagements",
        mes_engagements,
        aliases=("engagements",),
        menu=True,
        profile=True,
        opens="referents",
    ),
)
