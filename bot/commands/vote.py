"""The vote in chat: ``propositions``, ``voir P-012``, ``soutenir P-012 P-031``,
``retirer P-012``, ``mes soutiens``. Polls answer through the same rules."""

from __future__ import annotations

from bot.consultation import referents, vote
from bot.dialogue.commands import CommandSpec
from bot.dialogue.turn import Turn


def propositions(turn: Turn, argument: str) -> None:
    turn.out.extend(vote.listing(turn.ctx))


def voir(turn: Turn, argument: str) -> None:
    turn.say(vote.show(turn.ctx, vote.references(argument)))


def soutenir(turn: Turn, argument: str) -> None:
    turn.say(vote.support(turn.ctx, vote.references(argument)))


def retirer(turn: Turn, argument: str) -> None:
    """``retirer P-012`` withdraws a support, ``retirer V-0001`` a référent offer."""
    offers, supports = referents.references(argument), vote.references(argument)
    replies = [referents.withdraw(turn.ctx, offers)] if offers else []
    if supports:
        replies.append(vote.withdraw(turn.ctx, supports))
    turn.say("\n".join(replies))


def mes_soutiens(turn: Turn, argument: str) -> None:
    turn.say(vote.mine(turn.ctx))


COMMANDS = (
    CommandSpec("propositions", propositions, aliases=("voter", "vote"), menu=True, opens="vote"),
    CommandSpec("voir", voir, argument=vote.REFERENCES, opens="vote"),
    CommandSpec(
        "soutenir",
        soutenir,
        aliases=("soutien",),
        argument=vote.REFERENCES,
        profile=True,
        opens="vote",
        closes="vote",
    ),
    CommandSpec(
        "retirer",
        retirer,
        argument=referents.WITHDRAWABLE,
        profile=True,
        opens="vote",
        closes="referents",
    ),
    CommandSpec(
        "mes soutiens",
        mes_soutiens,
        aliases=("messoutiens",),
        menu=True,
        profile=True,
        opens="vote",
    ),
)
