"""What several scenes and commands say alike: yes/no questions, the draft, the phase."""

from __future__ import annotations

from bot.consultation import contributions
from bot.dialogue.context import Context
from bot.dialogue.parsing import NO_ALIASES, YES_ALIASES, Option
from bot.dialogue.state import DialogueState
from bot.dialogue.turn import Turn
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


def draft_title(ctx: Context, state: DialogueState) -> str:
    pending = state.draft()
    if pending is None:
        return ""
    return str(pending.answers.get("title") or ctx.t(f"draft.untitled.{pending.name}"))


def show_mine(turn: Turn) -> None:
    """The agent's contributions, and the draft in progress if there is one."""
    turn.say(contributions.mine(turn.ctx))
    if turn.state.draft() is not None:
        turn.say(turn.ctx.t("mine.draft", title=draft_title(turn.ctx, turn.state)))


def show_help(turn: Turn) -> None:
    """Help on the question being asked, then the commands this user may run."""
    frame = turn.top
    contextual = turn.scene(frame).help(turn, frame)
    commands = turn.ctx.services.commands.help_text(turn.ctx.catalogue, turn.ctx.is_admin)
    turn.say("\n\n".join(filter(None, (contextual, commands))))
