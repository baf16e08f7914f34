"""``modifier``: which answer of the form to change."""

from __future__ import annotations

from bot.dialogue.parsing import Option
from bot.dialogue.scene import Scene
from bot.dialogue.state import Frame
from bot.dialogue.turn import FORM, Turn
from bot.forms.base import Answer, Question

EDIT_PICK = "edit_pick"
BACK = "retour"


class EditPickScene(Scene):
    name = EDIT_PICK
    editing = True

    def question(self, turn: Turn, frame: Frame) -> Question:
        ctx, form = turn.ctx, frame.form
        assert form is not None
        definition = ctx.services.forms[form.name]
        options = [
            Option(f.name, f.label(ctx, form.name)) for f in definition.answered(form.answers)
        ]
        # before the summary (a first profile has none), back to the question being asked
        back = "edit.back" if form.field is None else "edit.back_to_question"
        options.append(Option(BACK, ctx.t(back)))
        return Question(ctx.t("edit.which"), tuple(options))

    def handle(self, turn: Turn, frame: Frame, answer: Answer) -> None:
        form = frame.form
        assert form is not None
        choice = answer.choice_ids[0] if answer.choice_ids else None
        if choice is None:
            turn.say(turn.ctx.t("input.choice_unknown"))
        elif choice == BACK:
            turn.return_to_form()
        else:
            form.field, form.review, form.sub, form.memo, form.forward = choice, True, {}, {}, []
            frame.scene = FORM

    def back(self, turn: Turn, frame: Frame) -> bool:
        form = frame.form
        assert form is not None
        missing = turn.ctx.services.forms[form.name].next_missing(form.answers)
        form.review, form.sub = False, {}
        form.field = missing.name if missing else None
        turn.return_to_form()
        return True
