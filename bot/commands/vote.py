"""The vote in chat: ``propositions``, ``voir P-012`` (a contribution too: ``voir B-0002``),
``soutenir P-012 P-031``, ``retirer P-012``, ``mes soutiens``. Polls answer through the same
rules."""

from __future__ import annotations

import re

from bot.consultation import referents, sent, vote
from bot.dialogue.commands import CommandSpec
from bot.dialogue.turn import Turn
from bot.scenes.confirm import ask_withdraw
from bot.scenes.withdraw_offer import CONFIRM_WITHDRAW_OFFER

VIEWABLE = re.compile(rf"(?:(?:P[-\s]?\d{{1,4}}|{sent.REFERENCE})[\s,;]*(?:et\s+)?)+", re.I)
"""What follows ``voir``: proposals (``P-012``) and contributions (``B-0002``); and
``soutenir``, which tells that contributions are not supported."""
SUPPORTED = re.compile(rf"{VIEWABLE.pattern}|{vote.SUPPORTED.pattern}", re.IGNORECASE)
"""What follows ``soutenir``: proposals, with or without « P- » (« la 3 »), « tout », or a
contribution typed by mistake."""


def propositions(turn: Turn, argument: str) -> None:
    turn.out.extend(vote.listing(turn.ctx))


def voir(turn: Turn, argument: str) -> None:
    proposals, contributions = vote.references(argument), sent.references(argument)
    shown = [vote.show(turn.ctx, proposals)] if proposals else []
    if contributions:
        shown.append(sent.show(turn.ctx, contributions))
    turn.say("\n\n".join(shown))


def soutenir(turn: Turn, argument: str) -> None:
    """``soutenir P-012 P-031``, ``voter P-012``, ``je soutiens la 12``; « soutenir tout »
    is answered by how to choose; a contribution (``B-0001``) is not supported: told."""
    ctx, contributions = turn.ctx, sent.references(argument)
    proposals = vote.chosen(re.sub(sent.REFERENCE, " ", argument, flags=re.IGNORECASE))
    said = [vote.support(ctx, proposals)] if proposals else []
    if contributions:  # one supports proposals, not contributions: say so, and how to see them
        listed = ", ".join(contributions)
        said.append(ctx.t("vote.support.contribution", references=listed, first=contributions[0]))
    turn.say("\n".join(said) if said else vote.choose(ctx))


def retirer(turn: Turn, argument: str) -> None:
    """``retirer P-012`` withdraws a support; ``retirer V-0001`` a référent offer, once the
    agent confirms (an offer is a commitment of the collectivité, and changing its answers
    is done by volunteering again, not by withdrawing it); ``retirer B-0002`` a sent
    contribution (after confirmation)."""
    offers, supports = referents.references(argument), vote.references(argument)
    asked, said = referents.to_confirm(turn.ctx, offers) if offers else ([], "")
    replies = [said] if said else []
    if supports:
        replies.append(vote.withdraw(turn.ctx, supports))
    if replies:
        turn.say("\n".join(replies))
    contributions = sent.references(argument)
    if asked:
        turn.push(CONFIRM_WITHDRAW_OFFER, offers=asked)
    elif contributions:  # one confirmation at a time: the offers' first
        ask_withdraw(turn, contributions)


def mes_soutiens(turn: Turn, argument: str) -> None:
    turn.say(vote.mine(turn.ctx))


SUPPORT_WORDS = ("soutien", "voter", "vote", "voter pour", "je soutiens", "je vote", "je vote pour")
"""« voter P-012 », « je soutiens la 12 »: a support; « voter » alone lists the proposals."""

COMMANDS = (
    CommandSpec("propositions", propositions, aliases=("voter", "vote"), menu=True, opens="vote"),
    CommandSpec("voir", voir, argument=VIEWABLE, bare=True),
    CommandSpec(
        "soutenir",
        soutenir,
        aliases=SUPPORT_WORDS,
        argument=SUPPORTED,  # a contribution typed by mistake: told
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
