"""Administrators' chat commands (``!stats``, ``!export``), refused to everyone else."""

from __future__ import annotations

from bot.context import Context
from bot.export import contributions_csv
from bot.parsing import Command
from bot.values import OutFile, Outgoing, OutText


def run(ctx: Context, command: Command) -> list[Outgoing]:
    if not ctx.is_admin:
        return [OutText(ctx.t("admin.refused"))]
    ctx.tx.audit(ctx.actor, f"admin.{command.value}")
    if command is Command.STATS:
        return [OutText(ctx.t("admin.stats", **ctx.tx.counts()))]
    if not ctx.can_send_files:
        return [OutText(ctx.t("admin.export_no_files"))]
    views = ctx.tx.contribution_views()
    content = contributions_csv(views, ctx.services.taxonomy)
    stamp = ctx.now.strftime("%Y%m%d-%H%M")
    caption = ctx.t("admin.export_caption", count=len(views))
    return [OutFile(f"contributions-{stamp}.csv", content, "text/csv", caption)]
