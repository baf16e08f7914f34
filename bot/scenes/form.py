"""A form's questions, one field at a time (:mod:`bot.forms` holds the fields)."""

from __future__ import annotations

from bot.dialogue.parsing import Option
from bot.dialogue.scene import Scene
from bot.dialogue.state import KEEP, SKIP, Frame
from bot.dialogue.turn import FORM, SUMMARY, Turn
from bot.forms.base import (
    Accept,
    Answer,
    AskAgain,
    ChoiceField,
    FormState,
    Outcome,
    Question,
    Reject,
)


class FormScene(Scene):
    name = FORM
    editing = True

    def question(self, turn: Turn, frame: Frame) -> Question:
        ctx, form = turn.ctx, _form(frame)
        field = ctx.services.forms[form.name].field(form.field or "")
        fresh = not form.sub  # not inside a sub-question of the field
        question = field.question(ctx, form)
        text, options = question.text, question.options
        free_text = question.free_text
        if field.optional:
            if options:
                options = (*options, Option(SKIP, ctx.t("form.skip")))
            else:
                text = f"{text}\n{ctx.t('form.optional_hint')}"
        if fresh and form.answers.get(field.name) is not None:
            current = field.display(ctx, form.name, form.answers[field.name])
            text = f"{text}\n\n{ctx.t('form.current_answer', value=current)}"
            # keeping it is one word (or one button): a paragraph is never retyped
            free_text = free_text or not options
            options = (*options, Option(KEEP, ctx.t("form.keep")))
        return Question(text, options, question.multiple, free_text)

    def handle(self, turn: Turn, frame: Frame, answer: Answer) -> None:
        ctx, form = turn.ctx, _form(frame)
        definition = ctx.services.forms[form.name]
        field = definition.field(form.field or "")
        outcome: Outcome
        if KEEP in answer.choice_ids and form.answers.get(field.name) is not None:
            outcome = Accept(form.answers[field.name])
        elif field.optional and answer.choice_ids == (SKIP,):
            outcome = Accept(None)
        elif isinstance(field, ChoiceField) and not answer.choice_ids:
            outcome = Reject(turn.not_understood(answer.text))
        else:
            outcome = field.accept(ctx, form, answer)
        match outcome:
            case Reject(message=message):
                turn.say(message)
            case AskAgain(notice=notice):
                turn.say(notice or "")
            case Accept(value=value, notice=notice):
                if form.answers.get(field.name) != value and definition.on_change is not None:
                    definition.on_change(form, field.name)
                definition.record(form, field, value)
                turn.say(notice or "")
                if form.field is None:
                    answered(turn, frame)

    def help(self, turn: Turn, frame: Frame) -> str:
        form = _form(frame)
        if form.field is None:
            return ""
        return turn.ctx.services.forms[form.name].field(form.field).help(turn.ctx, form.name)

    def back(self, turn: Turn, frame: Frame) -> bool:
        return back(turn, frame)


def answered(turn: Turn, frame: Frame) -> None:
    """Every field is answered: the form's interlude, then its summary (or it completes)."""
    ctx, form = turn.ctx, _form(frame)
    definition = ctx.services.forms[form.name]
    if not form.confirm:
        complete(turn, frame)
        return
    frame.scene = SUMMARY
    if definition.before_summary is not None:
        interlude = definition.before_summary(ctx, form)
        for note in interlude.notes:
            turn.say(note)
        if interlude.scene is not None:
            frame.scene = interlude.scene


def complete(turn: Turn, frame: Frame) -> None:
    """The form is confirmed: its hook stores it, then back to where the agent was."""
    ctx, form = turn.ctx, _form(frame)
    completion = ctx.services.forms[form.name].on_complete(ctx, form)
    turn.say(completion.message)
    if completion.done:
        turn.state.stack.remove(frame)
    turn.return_to_form()


def back(turn: Turn, frame: Frame) -> bool:
    """``retour`` inside a form: the previous question, or out of an edit."""
    ctx, form = turn.ctx, _form(frame)
    definition = ctx.services.forms[form.name]
    if frame.scene == FORM and form.review:
        missing = definition.next_missing(form.answers)
        form.review, form.sub = False, {}
        form.field = missing.name if missing else None
        turn.return_to_form()
    elif form.sub:
        form.sub = {}
    else:
        if not definition.back(form):
            turn.say(ctx.t("back.first"))
        frame.scene = FORM
    return True


def _form(frame: Frame) -> FormState:
    if frame.form is None:
        raise ValueError(f"the {frame.scene} scene needs a form")
    return frame.form
