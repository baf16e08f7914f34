"""A draft left for a while: resume it, or drop it (after the confirmation ``annuler`` asks)?"""

from __future__ import annotations

from bot.dialogue.parsing import NO_ALIASES, YES_ALIASES, Option
from bot.dialogue.scene import Scene
from bot.dialogue.state import Frame
from bot.dialogue.turn import RESUME, Turn
from bot.forms.base import Answer, Question
from bot.scenes.common import draft_title
from bot.scenes.confirm import CONFIRM_CANCEL
from config.calendar import french_date

CONTINUE, DROP = "reprendre", "abandonner"


class ResumeScene(Scene):
    name = RESUME
    about_form = True

    def question(self, turn: Turn, frame: Frame) -> Question:
        ctx = turn.ctx
        pending = turn.state.draft()
        started = french_date(ctx.services.calendar.today(pending.started_at)) if pending else ""
        return Question(
            ctx.t("resume.prompt", title=draft_title(ctx, turn.state), date=started),
            (
                Option(CONTINUE, ctx.t("resume.continue"), YES_ALIASES, polarity=True),
                Option(DROP, ctx.t("resume.drop"), NO_ALIASES, polarity=False),
            ),
        )

    def handle(self, turn: Turn, frame: Frame, answer: Answer) -> None:
        if answer.choice_ids == (DROP,):
            # « non » may be meant for the question the agent left days ago: nothing typed
            # is lost on one word, the same confirmation as « annuler » asks first
            turn.push(CONFIRM_CANCEL)
        else:
            turn.return_to_form()
