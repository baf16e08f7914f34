"""Before the summary: is this the same need another collectivité already described?"""

from __future__ import annotations

from bot.consultation import recurrence
from bot.dialogue.parsing import unsure
from bot.dialogue.scene import Scene
from bot.dialogue.state import Frame
from bot.dialogue.turn import SUMMARY, Turn
from bot.forms.base import Answer, Question
from bot.scenes.form import _form


class SimilarScene(Scene):
    name = recurrence.SIMILAR_SCENE
    editing = True
    interlude = True

    def question(self, turn: Turn, frame: Frame) -> Question:
        return recurrence.question(turn.ctx, _form(frame))

    def handle(self, turn: Turn, frame: Frame, answer: Answer) -> None:
        if not answer.choice_ids:
            ctx = turn.ctx
            if unsure(answer.text):  # re-asked, with what each answer does
                turn.say(
                    ctx.t("recurrence.unsure", kind=ctx.t(f"recurrence.kind.{_form(frame).name}"))
                )
            else:
                turn.say(turn.not_understood(answer.text))
            return
        turn.say(recurrence.answer(turn.ctx, _form(frame), answer.choice_ids[0]))
        frame.scene = SUMMARY
