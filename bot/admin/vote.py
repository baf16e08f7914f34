"""Administrators and the vote: ``!resultats`` and ``!retenir P-012 P-031`` (laureates)."""

from __future__ import annotations

from bot.consultation import vote
from bot.consultation.results import results_text
from bot.dialogue.commands import CommandSpec
from bot.dialogue.turn import Turn
from config.calendar import french_date


def resultats(turn: Turn, argument: str) -> None:
    ctx = turn.ctx
    calendar = ctx.services.calendar
    vote = calendar.get("vote")
    if calendar.today(ctx.now) < vote.start:  # nothing to count yet
        turn.say(ctx.t("results.not_open", start=french_date(vote.start)))
        return
    tallies = ctx.tx.support_tallies()
    ongoing = calendar.today(ctx.now) <= vote.end
    title = ctx.t("results.provisional" if ongoing else "results.final", count=len(tallies))
    turn.say(title + "\n" + results_text(ctx.t, ctx.services.taxonomy, tallies))


def retenir(turn: Turn, argument: str) -> None:
    """Select the laureates; every other published proposal is marked not selected."""
    ctx = turn.ctx
    calendar = ctx.services.calendar
    end = calendar.get("vote").end
    if calendar.today(ctx.now) <= end:
        turn.say(ctx.t("results.too_early", end=french_date(end)))
        return
    chosen = vote.references(argument)
    if not chosen:
        turn.say(ctx.t("results.usage"))
        return
    decided = ("publiee", "retenue", "non_retenue")  # a second !retenir decides again
    published = {p.reference for p in ctx.tx.proposals() if p.status in decided}
    unknown = [r for r in chosen if r not in published]
    if unknown:
        turn.say(ctx.t("results.not_published", references=", ".join(unknown)))
        return
    # every reference was checked above: each change below is an allowed transition
    for reference in chosen:
        ctx.tx.set_proposal_status(ctx.actor, reference, "retenue")
    others = sorted(published - set(chosen))
    for reference in others:
        ctx.tx.set_proposal_status(ctx.actor, reference, "non_retenue")
    turn.say(
        ctx.t(
            "results.selected",
            selected=", ".join(chosen),
            count=len(others),
        )
    )


COMMANDS = (
    CommandSpec("resultats", resultats, admin=True),
    CommandSpec("retenir", retenir, admin=True),
)
