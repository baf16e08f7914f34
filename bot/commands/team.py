"""``contact``: how to write to the consultation's team (``RECUEIL_TEAM_CONTACT``).

The bot forwards nothing to the team: without an address, it says so, and what it can do."""

from __future__ import annotations

from bot.dialogue.commands import CommandSpec
from bot.dialogue.turn import Turn


def contact(turn: Turn, argument: str) -> None:
    turn.say(turn.ctx.t_team("team"))


COMMANDS = (
    CommandSpec(
        "contact",
        contact,
        aliases=("equipe", "contacter", "contacter l'equipe", "ecrire a l'equipe"),
        menu=True,
    ),
)
