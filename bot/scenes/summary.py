"""A complete form's summary: send it, change an answer, or drop it."""

from __future__ import annotations

from bot.dialogue.parsing import YES_ALIASES, Option
from bot.dialogue.scene import Scene
from bot.dialogue.state import Frame
from bot.dialogue.turn import SUMMARY, Turn
from bot.forms.base import Answer, Question
from bot.forms.summary import summary_lines
from bot.scenes.confirm import CONFIRM_CANCEL
from bot.scenes.edit_pick import EDIT_PICK
from bot.scenes.form import _form, back, complete
from bot.scenes.repeat import sends_a_copy

SEND, EDIT, CANCEL = "envoyer", "modifier", "annuler"


class SummaryScene(Scene):
    name = SUMMARY
    editing = True

    def question(self, turn: Turn, frame: Frame) -> Question:
        ctx, form = turn.ctx, _form(frame)
        lines = summary_lines(ctx, form.name, form.answers)
        note = ctx.services.forms[form.name].summary_note
        extra = note(ctx, form) if note is not None else ""
        if extra:
            lines += f"\n• {extra}"
        text = "\n\n".join(
            (ctx.t(f"summary.title.{form.name}"), lines, ctx.t(f"summary.public.{form.name}"))
        )
        return Question(
            text,
            (
                # its yes: « oui », « ok c bon », 👍 send it (:func:`yes_or_no`)
                Option(SEND, ctx.t(f"summary.submit.{form.name}"), YES_ALIASES, polarity=True),
                Option(EDIT, ctx.t("summary.edit")),
                Option(CANCEL, ctx.t("summary.cancel")),
            ),
        )

    def handle(self, turn: Turn, frame: Frame, answer: Answer) -> None:
        choice = answer.choice_ids[0] if answer.choice_ids else None
        if choice == SEND:
            if not sends_a_copy(turn, frame):
                complete(turn, frame)
        elif choice == EDIT:
            frame.scene = EDIT_PICK
        elif choice == CANCEL:
            turn.push(CONFIRM_CANCEL)
        else:
            turn.say(turn.ctx.t("input.choice_unknown"))

    def back(self, turn: Turn, frame: Frame) -> bool:
        return back(turn, frame)
