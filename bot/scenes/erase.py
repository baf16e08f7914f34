"""``supprimer mes données``: confirm, then erase the agent's personal data."""

from __future__ import annotations

from bot.dialogue.context import Context
from bot.dialogue.scene import Scene
from bot.dialogue.state import Frame
from bot.dialogue.turn import Turn
from bot.forms.base import Answer, Question
from bot.scenes.common import YES, yes_no
from storage import privacy

ERASE = "erase"


def engagements_kept(ctx: Context) -> str:
    """The sentence saying the agent's standing engagements stay, without their contact."""
    agent = ctx.agent
    if agent is None or agent.collectivite_id is None:
        return ""
    references = [
        o.reference for o in ctx.tx.offers_of(agent.collectivite_id) if o.agent_id == agent.id
    ]
    if not references:
        return ""
    return ctx.t(
        "privacy.erase_engagements", count=len(references), references=", ".join(references)
    )


class EraseScene(Scene):
    name = ERASE
    expires = True

    def question(self, turn: Turn, frame: Frame) -> Question:
        ctx = turn.ctx
        text = ctx.t("privacy.erase_confirm", engagements=engagements_kept(ctx))
        return yes_no(ctx, text, "privacy.erase_yes", "privacy.erase_no")

    def handle(self, turn: Turn, frame: Frame, answer: Answer) -> None:
        ctx = turn.ctx
        if answer.choice_ids != (YES,):
            turn.say(ctx.t("privacy.erase_kept"))
            turn.pop()
            return
        privacy.erase_agent(ctx.tx, ctx.key.transport, ctx.key.user, now=ctx.now)
        ctx.agent = None
        ctx.forget_after_delivery = True
        turn.close(ctx.t("privacy.erased"))
