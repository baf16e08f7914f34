"""``!export``: the contributions as a CSV file, where the platform carries files."""

from __future__ import annotations

from bot.consultation.export import contributions_csv
from bot.core.values import OutFile
from bot.dialogue.commands import CommandSpec
from bot.dialogue.turn import Turn


def run(turn: Turn, argument: str) -> None:
    ctx = turn.ctx
    if not ctx.can_send_files:
        turn.say(ctx.t("admin.export_no_files"))
        return
    views = ctx.tx.contribution_views()
    content = contributions_csv(views, ctx.services.taxonomy, ctx.services.calendar.zone)
    stamp = ctx.local_now.strftime("%Y%m%d-%H%M")
    caption = ctx.t("admin.export_caption", count=len(views))
    turn.out.append(OutFile(f"contributions-{stamp}.csv", content, "text/csv", caption))


COMMANDS = (CommandSpec("export", run, admin=True),)
