"""``supprimer mes données``: confirm, then erase the agent's personal data."""

from __future__ import annotations

from bot.dialogue.scene import Scene
from bot.dialogue.state import Frame
from bot.dialogue.turn import Turn
from bot.forms.base import Answer, Question
from bot.scenes.common import YES, yes_no
from storage import privacy

ERASE = "erase"


class EraseScene(Scene):
    name = ERASE
    expires = True

    def question(self, turn: Turn, frame: Frame) -> Question:
        return yes_no(
            turn.ctx, turn.ctx.t("privacy.erase_confirm"), "privacy.erase_yes", "privacy.erase_no"
        )

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
