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
