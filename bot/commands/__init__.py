"""Every command of the bot. Adding one: a module with its ``COMMANDS``, and a line here."""

from __future__ import annotations

from bot.admin import exports, groups, stats
from bot.admin import referents as admin_referents
from bot.commands import account, follow, navigation, referents, subscription, vote
from bot.dialogue.commands import CommandRegistry

COMMAND_MODULES = (
    navigation,
    account,
    vote,
    referents,
    follow,
    subscription,
    stats,
    exports,
    groups,
    admin_referents,
)


def build_commands() -> CommandRegistry:
    return CommandRegistry(spec for module in COMMAND_MODULES for spec in module.COMMANDS)
