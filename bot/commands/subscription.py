"""``stop`` and ``reprendre les annonces``: an agent turns the scheduled announcements off
and on. ``reprendre`` alone is the draft's word (:func:`bot.commands.navigation.reprendre`)."""

from __future__ import annotations

from bot.dialogue.commands import CommandSpec
from bot.dialogue.turn import Turn
from storage import campaigns


def stop(turn: Turn, argument: str) -> None:
    ctx = turn.ctx
    if ctx.agent is None:
        turn.say(ctx.t("subscription.stopped"))
        return
    if campaigns.is_opted_out(ctx.tx, ctx.agent.id):
        turn.say(ctx.t("subscription.already_stopped"))
        return
    campaigns.set_opted_out(ctx.tx, ctx.agent.id, True)
    ctx.tx.audit(ctx.actor, "pushes.stopped", subject=f"agent:{ctx.agent.id}")
    turn.say(ctx.t("subscription.stopped"))


def resume(turn: Turn, argument: str) -> None:
    ctx = turn.ctx
    if ctx.agent is None or not campaigns.is_opted_out(ctx.tx, ctx.agent.id):
        turn.say(ctx.t("subscription.not_stopped"))
        return
    campaigns.set_opted_out(ctx.tx, ctx.agent.id, False)
    ctx.tx.audit(ctx.actor, "pushes.resumed", subject=f"agent:{ctx.agent.id}")
    turn.say(ctx.t("subscription.resumed"))


COMMANDS = (
    CommandSpec("stop", stop, aliases=("desabonner", "se desabonner", "arreter"), menu=True),
    CommandSpec("reprendre les annonces", resume, aliases=("reabonner", "se reabonner")),
)
