"""A draft left for a while: resume it, or drop it (after the confirmation ``annuler`` asks)?"""

from __future__ import annotations

from bot.dialogue.parsing import NO_ALIASES, YES_ALIASES, Option, read_choices
from bot.dialogue.scene import Scene
from bot.dialogue.state import Frame
from bot.dialogue.turn import RESUME, Turn
from bot.forms.base import Answer, Question
from bot.scenes.common import draft_title
from bot.scenes.confirm import CONFIRM_CANCEL
from config.calendar import french_date


def answer_pending(turn: Turn, text: str) -> None:
    """Text typed at the offer to resume: the agent answered the question they had left.
    The draft is resumed and the text read as the answer to its pending question; when
    that question takes no such text, the text is shown back, never lost."""
    ctx = turn.ctx
    turn.return_to_form()
    frame = turn.top
    if frame.form is None:
        return
    turn.expect()
    state = turn.state
    options = [Option(o.id, o.label, tuple(o.aliases), o.polarity) for o in state.options]
    ids = read_choices(text, options, multiple=state.multiple) if options else None
    if not ids and not state.free_text:
        turn.say(ctx.t("resume.not_an_answer", text=text))
        return
    turn.say(ctx.t("resume.with_answer"))
    turn.scene(frame).handle(turn, frame, Answer(text, tuple(ids or ())))


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
            free_text=True,  # the answer to the question left pending (handle)
        )

    def handle(self, turn: Turn, frame: Frame, answer: Answer) -> None:
        if not answer.choice_ids and answer.text.strip():
            answer_pending(turn, answer.text.strip())
        elif answer.choice_ids == (DROP,):
            # « non » may be meant for the question the agent left days ago: nothing typed
            # is lost on one word, the same confirmation as « annuler » asks first
            turn.push(CONFIRM_CANCEL)
        else:
            turn.return_to_form()
