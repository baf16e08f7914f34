"""What agents see of their own: their contributions (``supprimer B-0002`` withdraws one),
their profile."""

from __future__ import annotations

from bot.consultation import sent
from bot.dialogue.commands import CommandSpec
from bot.dialogue.turn import Turn
from bot.scenes.common import show_mine
from bot.scenes.confirm import ask_withdraw
from bot.scenes.profile_view import PROFILE


def mes_contributions(turn: Turn, argument: str) -> None:
    show_mine(turn)


def supprimer(turn: Turn, argument: str) -> None:
    """``supprimer B-0002``: withdraw a sent contribution, after confirmation."""
    ask_withdraw(turn, sent.references(argument))


def profil(turn: Turn, argument: str) -> None:
    if turn.state.in_profile_form():
        turn.say(turn.ctx.t("profile.in_progress"))
    elif not turn.ctx.has_profile:  # an administrator working without one creates it
        turn.welcome()
    else:
        turn.push(PROFILE)


COMMANDS = (
    CommandSpec(
        "mes contributions",
        mes_contributions,
        aliases=("mescontributions", "contributions"),
        menu=True,
    ),
    CommandSpec(
        "supprimer", supprimer, aliases=("effacer",), argument=sent.REFERENCES, profile=True
    ),
    CommandSpec("profil", profil, aliases=("mon profil",), menu=True),
)
