"""Every command of the bot. Adding one: a module with its ``COMMANDS``, and a line here."""

from __future__ import annotations

from bot.admin import campaigns, exports, groups, stats
from bot.admin import proposals as proposal_triage
from bot.admin import referents as admin_referents
from bot.admin import vote as vote_admin
from bot.admin import vouching as admin_vouching
from bot.commands import (
    account,
    follow,
    navigation,
    privacy,
    referents,
    subscription,
    team,
    vote,
    vouching,
)
from bot.dialogue.commands import CommandRegistry

COMMAND_MODULES = (
    navigation,
    account,
    privacy,
    vote,
    vouching,
    referents,
    follow,
    subscription,
    team,
    stats,
    exports,
    groups,
    vote_admin,
    campaigns,
    proposal_triage,
    admin_vouching,
    admin_referents,
)


def build_commands() -> CommandRegistry:
    return CommandRegistry(spec for module in COMMAND_MODULES for spec in module.COMMANDS)
