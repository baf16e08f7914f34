"""What several scenes and commands say alike: yes/no questions, the draft, the phase."""

from __future__ import annotations

from bot.consultation import contributions
from bot.dialogue.context import Context
from bot.dialogue.parsing import NO_ALIASES, YES_ALIASES, Option
from bot.dialogue.pending import answers_pending, draft_title
from bot.dialogue.state import DialogueState
from bot.dialogue.step import on_text
from bot.dialogue.turn import RESUME, Turn
from bot.forms.base import Question

YES, NO = "oui", "non"


def yes_no(ctx: Context, text: str, yes: str, no: str) -> Question:
    """A confirmation; a yes or a no as people type it is understood (:func:`yes_or_no`)."""
    return Question(
        text,
        (
            Option(YES, ctx.t(yes), YES_ALIASES, polarity=True),
            Option(NO, ctx.t(no), NO_ALIASES, polarity=False),
        ),
    )


def show_mine(turn: Turn) -> None:
    """The agent's contributions, and the draft in progress if there is one."""
    turn.say(contributions.mine(turn.ctx))
    if turn.state.draft() is not None:
        turn.say(turn.ctx.t("mine.draft", title=draft_title(turn.ctx, turn.state)))


def show_help(turn: Turn) -> None:
    """Help on the question being asked, then the commands this user may run now."""
    frame = turn.top
    contextual = turn.scene(frame).help(turn, frame)
    ctx = turn.ctx
    calendar = ctx.services.calendar
    commands = ctx.services.commands.help_text(
        ctx.catalogue, ctx.is_admin, calendar, calendar.today(ctx.now)
    )
    turn.say("\n\n".join(filter(None, (contextual, commands))))


TYPED = "typed"
"""What the agent typed on coming back, kept by the offer to resume (its frame's data)."""


def kept_text(state: DialogueState) -> str:
    """The text kept by the offer to resume, if it is still on the stack."""
    return next((str(f.data.get(TYPED) or "") for f in state.stack if f.scene == RESUME), "")


def answer_pending(turn: Turn, text: str) -> None:
    """The agent resumes their draft with a text (typed at the offer to resume, or kept by
    it): the draft's question left pending takes it when it answers it
    (:func:`bot.dialogue.pending.answers_pending`); otherwise the text is shown back with
    the question, never lost."""
    ctx = turn.ctx
    turn.return_to_form()
    if turn.top.form is None:
        return
    turn.expect()
    if answers_pending(turn, text):
        turn.say(ctx.t("resume.with_answer"))
        on_text(turn, text)
    else:
        turn.say(ctx.t("resume.not_an_answer", text=text))
