"""Following a laureate's news: ``suivre P-012``, ``ne plus suivre P-012``.

Contributors, supporters and volunteers of a laureate follow it without asking; anyone with
a profile may follow it too, or stop. ``!nouvelles P-012 « … »`` reaches the audience
``suiveurs:P-012`` (:mod:`storage.campaigns`).
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.dialogue.context import Context
from config.calendar import french_date
from storage import campaigns as stored
from storage.ops.follows import FollowOutcome
from storage.ops.supports import OPEN_TO_VOTE

DECIDED = ("retenue", "non_retenue")


def set_following(ctx: Context, refs: Iterable[str], following: bool) -> str:
    if ctx.agent is None or ctx.agent.collectivite_id is None:
        return ctx.t("follow.profile_needed")
    lines = []
    for reference in refs:
        outcome = ctx.tx.set_following(ctx.actor, ctx.agent.id, reference, following)
        if outcome == FollowOutcome.NOT_LAUREATE and _undecided(ctx, reference):
            lines.append(_not_chosen_yet(ctx, reference))
        else:
            lines.append(ctx.t(f"follow.{outcome.value}", reference=reference))
        if outcome == FollowOutcome.FOLLOWING and stored.is_opted_out(ctx.tx, ctx.agent.id):
            lines.append(ctx.t("follow.opted_out"))
    return "\n".join(dict.fromkeys(lines))


def _undecided(ctx: Context, reference: str) -> bool:
    """Whether the laureates may still include ``reference``: the vote is not over, or it
    is published and no laureate is chosen yet."""
    detail = ctx.tx.proposal(reference)
    if detail is None or detail.proposal.status in DECIDED:
        return False
    calendar = ctx.services.calendar
    if calendar.today(ctx.now) <= calendar.get("vote").end:
        return True
    return detail.proposal.status == OPEN_TO_VOTE


def _not_chosen_yet(ctx: Context, reference: str) -> str:
    calendar = ctx.services.calendar
    end = calendar.get("vote").end
    if calendar.today(ctx.now) <= end:
        return ctx.t("follow.not_chosen_yet", reference=reference, end=french_date(end))
    return ctx.t("follow.being_chosen", reference=reference)


def menu_lines(ctx: Context) -> str:
    """What the menu says of following, once laureates are known: those the agent follows
    and how to stop, then the others and how to follow them; never to follow one they do."""
    if ctx.agent is None or ctx.agent.collectivite_id is None:
        return ""
    laureates = ctx.tx.laureates_followed(ctx.agent.id)
    followed = [reference for reference, following in laureates.items() if following]
    others = [reference for reference, following in laureates.items() if not following]
    lines = []
    if followed:
        listed = ", ".join(followed)
        lines.append(ctx.t("follow.menu.following", references=listed, reference=followed[0]))
    if others:
        key = "follow.menu.others" if followed else "follow.menu.none"
        listed = ", ".join(others)
        lines.append(ctx.t(key, count=len(others), references=listed, reference=others[0]))
    return "\n".join(lines)
