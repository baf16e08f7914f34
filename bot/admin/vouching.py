"""Vouching, for administrators: ``!domaine vichy.fr Vichy`` validates an e-mail domain
(``!retirer-domaine vichy.fr`` withdraws it),
``!nonverifies`` lists the agents whose supports are not verified, ``!valider 12`` vouches
for one of them."""

from __future__ import annotations

from bot.consultation import vouching
from bot.dialogue.commands import CommandSpec
from bot.dialogue.turn import Turn


def domaine(turn: Turn, argument: str) -> None:
    turn.say(vouching.validate_domain(turn.ctx, argument))


def retirer_domaine(turn: Turn, argument: str) -> None:
    turn.say(vouching.remove_domain(turn.ctx, argument))


def nonverifies(turn: Turn, argument: str) -> None:
    turn.say(vouching.unvouched(turn.ctx))


def valider(turn: Turn, argument: str) -> None:
    turn.say(vouching.validate_agent(turn.ctx, argument))


COMMANDS = (
    CommandSpec("domaine", domaine, admin=True),
    CommandSpec("retirer-domaine", retirer_domaine, aliases=("retirer domaine",), admin=True),
    CommandSpec("nonverifies", nonverifies, aliases=("non-verifies",), admin=True),
    CommandSpec("valider", valider, admin=True),
)
