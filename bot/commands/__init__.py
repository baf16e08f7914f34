"""Every command of the bot. Adding one: a module with its ``COMMANDS``, and a line here."""

from __future__ import annotations

from bot.admin import exports, groups, stats
from bot.commands import account, navigation, privacy
from bot.dialogue.commands import CommandRegistry

COMMAND_MODULES = (navigation, account, privacy, stats, exports, groups)


def build_commands() -> CommandRegistry:
    return CommandRegistry(spec for module in COMMAND_MODULES for spec in module.COMMANDS)
