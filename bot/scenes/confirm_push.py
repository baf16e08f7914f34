"""An administrator's push, previewed with its number of recipients: send it, or not."""

from __future__ import annotations

from bot.consultation import pushes
from bot.consultation.campaigns import audience_label
from bot.dialogue.scene import Scene
from bot.dialogue.state import Frame
from bot.dialogue.turn import Turn
from bot.forms.base import Answer, Question
from bot.scenes.common import YES, yes_no

CONFIRM_PUSH = "confirm_push"


class ConfirmPushScene(Scene):
    """``frame.data`` holds the draft (:class:`bot.consultation.pushes.PushDraft`)."""

    name = CONFIRM_PUSH
    expires = True
    admin = True
    left_by_commands = True

    def question(self, turn: Turn, frame: Frame) -> Question:
        ctx = turn.ctx
        text = ctx.t(
            "push.preview",
            count=pushes.recipients_count(ctx, frame.data),
            audience=audience_label(ctx.t, frame.data["audience"]),
            message=frame.data["message"],
        )
        return yes_no(ctx, text, "push.yes", "push.no")

    def handle(self, turn: Turn, frame: Frame, answer: Answer) -> None:
        ctx = turn.ctx
        turn.pop()
        if answer.choice_ids != (YES,):
            turn.say(ctx.t("push.dropped"))
        elif not ctx.is_admin:  # no longer an administrator since the preview
            turn.say(ctx.t("admin.refused"))
        else:
            turn.say(pushes.queue(ctx, frame.data))

    def back(self, turn: Turn, frame: Frame) -> bool:
        turn.pop()
        turn.say(turn.ctx.t("push.dropped"))
        return True
