"""Following a laureate: ``suivre P-012``, ``ne plus suivre P-012``."""

from __future__ import annotations

from bot.consultation import follow, vote
from bot.dialogue.commands import CommandSpec
from bot.dialogue.turn import Turn


def suivre(turn: Turn, argument: str) -> None:
    turn.say(follow.set_following(turn.ctx, vote.references(argument), True))


def ne_plus_suivre(turn: Turn, argument: str) -> None:
    turn.say(follow.set_following(turn.ctx, vote.references(argument), False))


COMMANDS = (
    CommandSpec("suivre", suivre, argument=vote.REFERENCES, profile=True, opens="referents"),
    CommandSpec(
        "ne plus suivre",
        ne_plus_suivre,
        aliases=("arreter de suivre",),
        argument=vote.REFERENCES,
        profile=True,
        opens="referents",
    ),
)
