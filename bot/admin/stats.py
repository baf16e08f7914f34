"""``!stats``: the figures of the consultation."""

from __future__ import annotations

from bot.admin.shared import shared_needs
from bot.consultation.export import cluster_records
from bot.consultation.matches import match_records
from bot.dialogue.commands import CommandSpec
from bot.dialogue.context import Context
from bot.dialogue.turn import Turn


def stats(ctx: Context) -> str:
    views = ctx.tx.contribution_views()
    shared = shared_needs(cluster_records(views, ctx.services.taxonomy))
    matches = match_records(views)
    questions = {m["contribution"] for m in matches}
    joined = {m["contribution"] for m in matches if m["associee"]}
    return ctx.t(
        "admin.stats",
        **ctx.tx.counts(),
        shared=len(shared),
        proposed=len(questions),
        joined=len(joined),
    )


def run(turn: Turn, argument: str) -> None:
    turn.say(stats(turn.ctx))


COMMANDS = (CommandSpec("stats", run, admin=True),)
