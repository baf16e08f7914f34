"""Text typed after a long silence: does it answer the question left standing?

An agent back days later may type the answer to the question they had left, or something
else entirely. One reading decides for the text typed on their return and for the text
typed (or kept) at the offer to resume: an answer is taken, anything else is kept or
shown back, never dropped.
"""

from __future__ import annotations

from bot.dialogue.context import Context
from bot.dialogue.parsing import fold, greeting, read_choices, says_nothing
from bot.dialogue.state import KEEP, SKIP, DialogueState
from bot.dialogue.turn import FORM, Turn
from bot.forms.base import Answer, Reject
from config.calendar import french_date


def draft_title(ctx: Context, state: DialogueState) -> str:
    pending = state.draft()
    if pending is None:
        return ""
    return str(pending.answers.get("title") or ctx.t(f"draft.untitled.{pending.name}"))


def draft_started(ctx: Context, state: DialogueState) -> str:
    """The day the contribution in progress was started, as French writes it."""
    pending = state.draft()
    return french_date(ctx.services.calendar.today(pending.started_at)) if pending else ""


def answers_pending(turn: Turn, text: str) -> bool:
    """``text`` reads as an answer to the question asked last (the one ``turn.state``
    recorded): one of its options, or, where it takes text, a text its field accepts.

    A yes, a no, « je ne sais pas » or a greeting answers no question that does not offer
    them as options.
    """
    ctx, state, frame = turn.ctx, turn.state, turn.top
    options = state.offered()
    if options and read_choices(text, options, multiple=state.multiple):
        return True
    if not state.free_text or not text.strip():
        return False
    if says_nothing(text) or greeting(text) is not None:
        return False
    form = frame.form
    if frame.scene != FORM or form is None or form.field is None:
        return True
    field = ctx.services.forms[form.name].field(form.field)
    if fold(text) == SKIP:
        return field.optional
    if fold(text) == KEEP:
        return not form.sub and form.answers.get(field.name) is not None
    # the field's own reading, on a copy: a sub-question it would open is still an answer
    outcome = field.accept(ctx, form.model_copy(deep=True), Answer(text))
    return not isinstance(outcome, Reject)
