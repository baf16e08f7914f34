"""Administrators' chat commands, refused to everyone else.

``!stats``, ``!export``, ``!recurrences`` (the shared needs), ``!regrouper B-0005 B-0001`` and
``!separer B-0005`` (correct the groups of the same need by hand).
"""

from __future__ import annotations

from typing import Any

from bot.consultation import regroup
from bot.consultation.export import cluster_records, contributions_csv
from bot.consultation.matches import match_records
from bot.core.values import OutFile, Outgoing, OutText
from bot.dialogue.context import Context
from bot.dialogue.parsing import Command
from config.typography import decimal
from nlp.similarity import comparable_usage

SHARED_SHOWN = 10
"""Lines listed by ``!recurrences`` and ``!candidats``; the exports have them all."""
REVIEWED_IN_CHAT = 200
"""``!candidats`` looks for pairs from the latest contributions only, to answer at once."""


def run(ctx: Context, command: Command, argument: str = "") -> list[Outgoing]:
    if not ctx.is_admin:
        return [OutText(ctx.t("admin.refused"))]
    ctx.tx.audit(ctx.actor, f"admin.{command.value}")
    if command is Command.STATS:
        return [OutText(stats(ctx))]
    if command is Command.RECURRENCES:
        return [OutText(recurrences(ctx))]
    if command is Command.CANDIDATS:
        return [OutText(candidates(ctx))]
    if command in (Command.REGROUPER, Command.SEPARER):
        return [OutText(regrouping(ctx, command, argument.replace(",", " ").split()))]
    if not ctx.can_send_files:
        return [OutText(ctx.t("admin.export_no_files"))]
    views = ctx.tx.contribution_views()
    content = contributions_csv(views, ctx.services.taxonomy)
    stamp = ctx.now.strftime("%Y%m%d-%H%M")
    caption = ctx.t("admin.export_caption", count=len(views))
    return [OutFile(f"contributions-{stamp}.csv", content, "text/csv", caption)]


def stats(ctx: Context) -> str:
    views = ctx.tx.contribution_views()
    shared = _shared(cluster_records(views, ctx.services.taxonomy))
    matches = match_records(views)
    questions = {m["contribution"] for m in matches}
    joined = {m["contribution"] for m in matches if m["associee"]}
    return ctx.t(
        "admin.stats",
        **ctx.tx.counts(),
        shared=len(shared),
        proposed=len(questions),
        joined=len(joined),
    )


def recurrences(ctx: Context) -> str:
    """The needs and services shared by several collectivités, the most shared first."""
    shared = _shared(cluster_records(ctx.tx.contribution_views(), ctx.services.taxonomy))
    if not shared:
        return ctx.t("admin.recurrences.none")
    lines = [ctx.t("admin.recurrences.title", count=len(shared))]
    for record in shared[:SHARED_SHOWN]:
        lines.append(
            ctx.t(
                "admin.recurrences.item",
                reference=record["reference"],
                kind=ctx.t(f"recurrence.kind.{record['type']}"),
                title=record["titre"],
                usage=usage_note(ctx, record["usage"]),
                count=record["nombre_collectivites"],
                names=", ".join(record["collectivites"]),
            )
        )
    if len(shared) > SHARED_SHOWN:
        lines.append(ctx.t("admin.recurrences.more", count=len(shared) - SHARED_SHOWN))
    return "\n".join(lines)


def candidates(ctx: Context) -> str:
    """Pairs to review among the latest contributions, with the command to regroup them."""
    index = ctx.services.similar
    if index is None:
        return ctx.t("admin.candidates.unavailable")
    views = ctx.tx.contribution_views()
    records = regroup.candidate_records(
        views, index, regroup.CANDIDATE_MIN_SCORE, among=views[-REVIEWED_IN_CHAT:]
    )
    if not records:
        return ctx.t("admin.candidates.none", count=min(len(views), REVIEWED_IN_CHAT))
    lines = [ctx.t("admin.candidates.title", count=min(len(views), REVIEWED_IN_CHAT))]
    for record in records[:SHARED_SHOWN]:
        lines.append(
            ctx.t(
                "admin.candidates.item",
                score=decimal(record["score"]),
                a=record["reference_a"],
                title_a=record["titre_a"],
                collectivite_a=record["collectivite_a"],
                b=record["reference_b"],
                title_b=record["titre_b"],
                collectivite_b=record["collectivite_b"],
                refused=ctx.t("admin.candidates.refused") if record["refuse_par_agent"] else "",
            )
        )
    first = records[0]
    lines.append(ctx.t("admin.candidates.how", a=first["reference_a"], b=first["reference_b"]))
    return "\n".join(lines)


def regrouping(ctx: Context, command: Command, references: list[str]) -> str:
    expected = 2 if command is Command.REGROUPER else 1
    if len(references) != expected:
        return ctx.t("regroup.usage")
    with_reference = references[1] if command is Command.REGROUPER else None
    return regroup.apply(ctx.tx, ctx.t, ctx.actor, references[0], with_reference)[1]


def usage_note(ctx: Context, usage: str | None) -> str:
    if comparable_usage(usage) is None or not ctx.catalogue.has(f"usage.options.{usage}"):
        return ""
    return ctx.t("admin.recurrences.usage", label=ctx.t(f"usage.options.{usage}").lower())


def _shared(clusters: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [c for c in clusters if c["nombre_collectivites"] > 1]
