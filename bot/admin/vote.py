"""Administrators and the vote: ``!resultats`` and ``!retenir P-012 P-031`` (laureates)."""

from __future__ import annotations

from bot.consultation import vote
from bot.consultation.closing import recompose_vote_closing
from bot.consultation.referent_calls import PHASE as REFERENTS
from bot.consultation.referent_calls import call_id
from bot.consultation.results import results_text
from bot.dialogue.commands import CommandSpec
from bot.dialogue.context import Context
from bot.dialogue.turn import Turn
from config.calendar import french_date
from config.typography import listing
from storage import campaigns as stored
from storage.ops.referents import LAUREATE


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
    others = sorted(published - set(chosen))
    orphaned = _orphaned(ctx, others)
    if orphaned:
        turn.say(
            "\n".join([ctx.t("results.orphaned.title"), *orphaned, ctx.t("results.orphaned.hint")])
        )
        return
    # every reference was checked above: each change below is an allowed transition
    for reference in chosen:
        ctx.tx.set_proposal_status(ctx.actor, reference, "retenue")
    for reference in others:
        ctx.tx.set_proposal_status(ctx.actor, reference, "non_retenue")
    recompose_vote_closing(ctx)  # a closing still waiting names the laureates chosen now
    turn.say(
        ctx.t(
            "results.selected",
            selected=", ".join(chosen),
            count=len(others),
        )
    )


def _orphaned(ctx: Context, dropped: list[str]) -> list[str]:
    """Once the référent phase has opened, a line for each laureate ``dropped`` would orphan:
    its call queued, its standing volunteers, the agents who typed ``suivre``. Adding a
    laureate stays allowed (its call goes at the next tick)."""
    calendar = ctx.services.calendar
    if calendar.today(ctx.now) < calendar.get(REFERENTS).start:
        return []
    laureates = {p.reference for p in ctx.tx.proposals() if p.status == LAUREATE}
    recorded = stored.recorded(ctx.tx)
    offers = ctx.tx.volunteers()
    lines = []
    for reference in dropped:
        if reference not in laureates:
            continue
        ties = []
        if call_id(reference) in recorded:
            ties.append(ctx.t("results.orphaned.call"))
        volunteers = [o.reference for o in offers if o.proposal == reference]
        if volunteers:
            ties.append(
                ctx.t(
                    "results.orphaned.volunteers",
                    count=len(volunteers),
                    references=listing(volunteers),
                )
            )
        followers = ctx.tx.explicit_followers(reference)
        if followers:
            ties.append(ctx.t("results.orphaned.followers", count=followers))
        if ties:
            lines.append(ctx.t("results.orphaned.item", reference=reference, ties=listing(ties)))
    return lines


COMMANDS = (
    CommandSpec("resultats", resultats, admin=True),
    CommandSpec("retenir", retenir, admin=True),
)
