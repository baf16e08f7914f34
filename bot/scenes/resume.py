"""A draft left for a while: resume it, or drop it (after the confirmation ``annuler`` asks)?"""

from __future__ import annotations

from bot.dialogue.parsing import NO_ALIASES, YES_ALIASES, Option
from bot.dialogue.pending import draft_started, draft_title
from bot.dialogue.scene import Scene
from bot.dialogue.state import Frame
from bot.dialogue.turn import RESUME, Turn
from bot.forms.base import Answer, Question
from bot.scenes.common import TYPED, answer_pending
from bot.scenes.confirm import CONFIRM_CANCEL

CONTINUE, DROP = "reprendre", "abandonner"
DROP_WORDS = (*NO_ALIASES, "arreter")
"""« arrêter » answers this question about the draft: it is not the announcements' ``stop``."""
KEPT_SHOWN = 120
"""Characters of the kept message quoted in the offer (all of it is used on resuming)."""


class ResumeScene(Scene):
    """Pushed with ``typed``: what the agent wrote on coming back, which answered nothing
    standing; it is used (taken as the answer, or shown back) once they resume."""

    name = RESUME
    about_form = True

    def question(self, turn: Turn, frame: Frame) -> Question:
        ctx = turn.ctx
        text = ctx.t(
            "resume.prompt",
            title=draft_title(ctx, turn.state),
            date=draft_started(ctx, turn.state),
        )
        typed = str(frame.data.get(TYPED) or "")
        if typed:
            shown = typed if len(typed) <= KEPT_SHOWN else typed[: KEPT_SHOWN - 1] + "…"
            text = f"{text}\n\n{ctx.t('resume.kept', text=shown)}"
        return Question(
            text,
            (
                Option(CONTINUE, ctx.t("resume.continue"), YES_ALIASES, polarity=True),
                Option(DROP, ctx.t("resume.drop"), DROP_WORDS, polarity=False),
            ),
            free_text=True,  # the answer to the question left pending (handle)
        )

    def handle(self, turn: Turn, frame: Frame, answer: Answer) -> None:
        typed = str(frame.data.get(TYPED) or "")
        if not answer.choice_ids and answer.text.strip():
            answer_pending(turn, answer.text.strip())  # a new text: it replaces the kept one
        elif answer.choice_ids == (DROP,):
            # « non » may be meant for the question the agent left days ago: nothing typed
            # is lost on one word, the same confirmation as « annuler » asks first
            turn.push(CONFIRM_CANCEL)
        elif typed:
            answer_pending(turn, typed)
        else:
            turn.return_to_form()
