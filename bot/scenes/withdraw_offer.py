"""``retirer V-0001``: withdraw a territoire référent's engagement, after confirmation."""

from __future__ import annotations

from bot.consultation import referents
from bot.dialogue.scene import Scene
from bot.dialogue.state import Frame
from bot.dialogue.turn import Turn
from bot.forms.base import Answer, Question
from bot.scenes.common import YES, yes_no

CONFIRM_WITHDRAW_OFFER = "confirm_withdraw_offer"


class ConfirmWithdrawOfferScene(Scene):
    """``frame.data["offers"]``: the references to withdraw once the agent says yes. A
    change of mind (the élu agreed, another contact) is an update, not a withdrawal: the
    question says so."""

    name = CONFIRM_WITHDRAW_OFFER
    expires = True

    def question(self, turn: Turn, frame: Frame) -> Question:
        ctx = turn.ctx
        text = referents.withdrawal_question(ctx, frame.data["offers"])
        return yes_no(ctx, text, "referents.withdraw.yes", "referents.withdraw.no")

    def handle(self, turn: Turn, frame: Frame, answer: Answer) -> None:
        ctx = turn.ctx
        turn.pop()
        if answer.choice_ids == (YES,):
            turn.say(referents.withdraw(ctx, frame.data["offers"]))
        else:
            turn.say(ctx.t("referents.withdraw.kept", count=len(frame.data["offers"])))

    def back(self, turn: Turn, frame: Frame) -> bool:
        turn.pop()
        turn.say(turn.ctx.t("referents.withdraw.kept", count=len(frame.data["offers"])))
        return True
