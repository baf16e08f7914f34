"""``supprimer mes données``: confirm, then erase the agent's personal data."""

from __future__ import annotations

from bot.dialogue.context import Context
from bot.dialogue.parsing import NO_ALIASES, Option, yes_or_no
from bot.dialogue.scene import Scene
from bot.dialogue.state import Frame
from bot.dialogue.turn import Turn
from bot.forms.base import Answer, Question
from bot.scenes.common import NO, YES
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
        # the one irreversible action: a clear « oui » (or its number, or its label) erases;
        # « ouais », « ok » get asked for it (handle), a no as people type it keeps the data
        return Question(
            text,
            (
                Option(YES, ctx.t("privacy.erase_yes"), (YES,)),
                Option(NO, ctx.t("privacy.erase_no"), NO_ALIASES, polarity=False),
            ),
            free_text=True,
        )

    def handle(self, turn: Turn, frame: Frame, answer: Answer) -> None:
        ctx = turn.ctx
        if not answer.choice_ids:
            if yes_or_no(answer.text):
                turn.say(ctx.t("privacy.erase_needs_yes"))
            else:
                turn.say(turn.not_understood(answer.text))
            return
        if answer.choice_ids != (YES,):
            turn.say(ctx.t("privacy.erase_kept"))
            turn.pop()
            return
        privacy.erase_agent(
            ctx.tx,
            ctx.key.transport,
            ctx.key.user,
            quoted_as=ctx.t("privacy.quoted_erased"),
            now=ctx.now,
        )
        ctx.agent = None
        ctx.forget_after_delivery = True
        turn.close(ctx.t("privacy.erased"))
