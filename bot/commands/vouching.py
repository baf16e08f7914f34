"""``code ABCD-1234``: an agent types their collectivité's invitation code, so that its
supports count as verified (Telegram's ``/start ABCD-1234`` link comes here too, and so
does a code pasted alone, ``ABCD-1234``)."""

from __future__ import annotations

from bot.consultation import vouching
from bot.dialogue.commands import CommandSpec
from bot.dialogue.turn import Turn
from storage.ops.vouching import CODE_PATTERN, is_bare_code


def code(turn: Turn, argument: str) -> None:
    turn.say(vouching.use_code(turn.ctx, argument))


COMMANDS = (
    CommandSpec(
        "code",
        code,
        aliases=("invitation",),
        argument=CODE_PATTERN,
        pasted=is_bare_code,
        profile=True,
    ),
)
