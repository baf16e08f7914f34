"""Groups of the same need: ``!recurrences`` (the shared needs), ``!candidats`` (pairs to
review), ``!regrouper B-0005 B-0001`` and ``!separer B-0005`` (correct the groups by hand)."""

from __future__ import annotations

from bot.admin.shared import SHARED_SHOWN, shared_needs
from bot.consultation import regroup
from bot.consultation.export import cluster_records
from bot.dialogue.commands import CommandSpec
from bot.dialogue.context import Context
from bot.dialogue.turn import Turn
from config.typography import decimal
from nlp.similarity import comparable_usage

REVIEWED_IN_CHAT = 200
"""``!candidats`` looks for pairs from the latest contributions only, to answer at once."""


def recurrences(ctx: Context) -> str:
    """The needs and services shared by several collectivités, the most shared first."""
    shared = shared_needs(cluster_records(ctx.tx.contribution_views(), ctx.services.taxonomy))
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


def regrouping(ctx: Context, references: list[str], expected: int) -> str:
    """Attach (two references) or detach (one) a contribution; the usage if miscounted."""
    if len(references) != expected:
        return ctx.t("regroup.usage")
    with_reference = references[1] if expected == 2 else None
    return regroup.apply(ctx.tx, ctx.t, ctx.actor, references[0], with_reference)[1]


def usage_note(ctx: Context, usage: str | None) -> str:
    if comparable_usage(usage) is None or not ctx.catalogue.has(f"usage.options.{usage}"):
        return ""
    return ctx.t("admin.recurrences.usage", label=ctx.t(f"usage.options.{usage}").lower())


def _references(argument: str) -> list[str]:
    return argument.replace(",", " ").split()


def run_recurrences(turn: Turn, argument: str) -> None:
    turn.say(recurrences(turn.ctx))


def run_candidates(turn: Turn, argument: str) -> None:
    turn.say(candidates(turn.ctx))


def run_regroup(turn: Turn, argument: str) -> None:
    turn.say(regrouping(turn.ctx, _references(argument), expected=2))


def run_separate(turn: Turn, argument: str) -> None:
    turn.say(regrouping(turn.ctx, _references(argument), expected=1))


COMMANDS = (
    CommandSpec("recurrences", run_recurrences, aliases=("grappes", "clusters"), admin=True),
    CommandSpec("candidats", run_candidates, admin=True),
    CommandSpec("regrouper", run_regroup, admin=True),
    CommandSpec("separer", run_separate, admin=True),
)
