"""``!stats``: the figures of the consultation, then their chart where files can be sent."""

from __future__ import annotations

from typing import Any

from bot.admin.shared import shared_needs
from bot.consultation.charts import render_png, stats_figures
from bot.consultation.export import cluster_records, contribution_records
from bot.consultation.matches import match_records
from bot.core.values import OutFile
from bot.dialogue.commands import CommandSpec
from bot.dialogue.context import Context
from bot.dialogue.turn import Turn
from storage.store import ContributionView


def stats(ctx: Context, views: list[ContributionView], clusters: list[dict[str, Any]]) -> str:
    matches = match_records(views)
    questions = {m["contribution"] for m in matches}
    joined = {m["contribution"] for m in matches if m["associee"]}
    return ctx.t(
        "admin.stats",
        **ctx.tx.counts(),
        shared=len(shared_needs(clusters)),
        proposed=len(questions),
        joined=len(joined),
    )


def chart(ctx: Context, views: list[ContributionView], clusters: list[dict[str, Any]]) -> OutFile:
    """The PNG chart: per thématique, per week, and the share of needs already shared."""
    records = contribution_records(views, ctx.services.taxonomy)
    figures = stats_figures(records, clusters, ctx.t("admin.chart.no_thematique"))
    now = ctx.local_now
    png = render_png(figures, ctx.t, now.date())
    return OutFile(f"statistiques-{now.strftime('%Y%m%d-%H%M')}.png", png, "image/png")


def run(turn: Turn, argument: str) -> None:
    ctx = turn.ctx
    views = ctx.tx.contribution_views()
    clusters = cluster_records(views, ctx.services.taxonomy)
    turn.say(stats(ctx, views, clusters))
    if views and ctx.can_send_files:
        turn.out.append(chart(ctx, views, clusters))


COMMANDS = (CommandSpec("stats", run, admin=True),)
