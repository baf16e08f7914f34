"""Envoyer on a copy of the agent's own contribution: send it a second time?"""

from __future__ import annotations

from bot.dialogue.parsing import NO_ALIASES, YES_ALIASES, Option
from bot.dialogue.scene import Scene
from bot.dialogue.state import Frame
from bot.dialogue.turn import SUMMARY, Turn
from bot.forms.base import Answer, Question
from bot.scenes.form import _form, complete

REPEAT = "repeat"
SEND_AGAIN, KEEP_DRAFT = "envoyer_encore", "ne_pas_envoyer"


class RepeatScene(Scene):
    """Asked on the form's frame, between its summary and its sending: nothing is sent
    unless the agent says so, and the draft stays whatever they answer."""

    name = REPEAT
    editing = True

    def question(self, turn: Turn, frame: Frame) -> Question:
        ctx, form = turn.ctx, _form(frame)
        repeats = ctx.services.forms[form.name].repeats
        text = repeats(ctx, form) if repeats is not None else None
        return Question(
            text or "",
            (  # not sending first: the answer that loses nothing and doubles nothing
                Option(KEEP_DRAFT, ctx.t("repeat.no"), NO_ALIASES, polarity=False),
                Option(SEND_AGAIN, ctx.t("repeat.yes"), YES_ALIASES, polarity=True),
            ),
        )

    def handle(self, turn: Turn, frame: Frame, answer: Answer) -> None:
        if answer.choice_ids == (SEND_AGAIN,):
            complete(turn, frame)
        elif answer.choice_ids == (KEEP_DRAFT,):
            turn.say(turn.ctx.t("repeat.kept"))
            frame.scene = SUMMARY
        else:
            turn.say(turn.not_understood(answer.text))

    def back(self, turn: Turn, frame: Frame) -> bool:
        frame.scene = SUMMARY
        return True


def sends_a_copy(turn: Turn, frame: Frame) -> bool:
    """Envoyer pressed on a copy of what the agent already sent: ask before sending it."""
    ctx, form = turn.ctx, _form(frame)
    repeats = ctx.services.forms[form.name].repeats
    if repeats is None or repeats(ctx, form) is None:
        return False
    frame.scene = REPEAT
    return True
