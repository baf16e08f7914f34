"""Administrators' chat commands (``!stats``, ``!export``), refused to everyone else."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.export import contributions_csv
from bot.parsing import Command
from bot.values import OutFile

if TYPE_CHECKING:
    from bot.dialogue import Turn


def run(turn: Turn, command: Command) -> None:
    ctx = turn.ctx
    if not ctx.is_admin:
        turn.say(ctx.t("admin.refused"))
        turn.reask()
        return
    ctx.tx.audit(ctx.actor, f"admin.{command.value}")
    if command is Command.STATS:
        counts = ctx.tx.counts()
        turn.say(ctx.t("admin.stats", **counts))
    elif command is Command.EXPORT:
        views = ctx.tx.contribution_views()
        content = contributions_csv(views, ctx.services.taxonomy)
        stamp = ctx.now.strftime("%Y%m%d-%H%M")
        turn.out.append(
            OutFile(
                f"contributions-{stamp}.csv",
                content,
                "text/csv",
                ctx.t("admin.export_caption", count=len(views)),
            )
        )
    turn.reask()
