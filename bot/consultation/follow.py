"""Following a laureate's news: ``suivre P-012``, ``ne plus suivre P-012``.

Contributors, supporters and volunteers of a laureate follow it without asking; anyone with
a profile may follow it too, or stop. ``!nouvelles P-012 « … »`` reaches the audience
``suiveurs:P-012`` (:mod:`storage.campaigns`).
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.dialogue.context import Context
from storage import campaigns as stored
from storage.ops.follows import FollowOutcome


def set_following(ctx: Context, refs: Iterable[str], following: bool) -> str:
    if ctx.agent is None or ctx.agent.collectivite_id is None:
        return ctx.t("follow.profile_needed")
    lines = []
    for reference in refs:
        outcome = ctx.tx.set_following(ctx.actor, ctx.agent.id, reference, following)
        lines.append(ctx.t(f"follow.{outcome.value}", reference=reference))
        if outcome == FollowOutcome.FOLLOWING and stored.is_opted_out(ctx.tx, ctx.agent.id):
            lines.append(ctx.t("follow.opted_out"))
    return "\n".join(dict.fromkeys(lines))


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
