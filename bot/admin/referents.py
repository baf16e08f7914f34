"""Administrators and the territoires référents: ``!volontaires [P-012]`` lists the offers
by laureate; ``!ecrire-volontaires P-012 « … »`` writes to one laureate's volunteers;
``!nouvelles P-012 « … »`` sends news to its followers. Both pushes are confirmed first."""

from __future__ import annotations

from bot.consultation import pushes, vote
from bot.dialogue.commands import CommandSpec
from bot.dialogue.context import Context
from bot.dialogue.turn import Turn
from bot.scenes.confirm_push import CONFIRM_PUSH
from config.typography import in_sentence
from storage.ops.referents import LAUREATE


def listing(ctx: Context, argument: str) -> str:
    """Standing offers by laureate: collectivité, what it brings, contact, élu agreement."""
    wanted = vote.references(argument)
    details = {reference: ctx.tx.proposal(reference) for reference in wanted}
    unknown = [reference for reference, detail in details.items() if detail is None]
    if unknown:
        return "\n".join(ctx.t("admin.volunteers.unknown", reference=r) for r in unknown)
    others = [r for r, d in details.items() if d is not None and d.proposal.status != LAUREATE]
    if others:  # not a laureate, as « !nouvelles » says: no volunteers to expect
        return "\n".join(ctx.t("push.not_laureate", reference=r) for r in others)
    offers = [o for o in ctx.tx.volunteers() if not wanted or o.proposal in wanted]
    if not offers:
        return ctx.t("admin.volunteers.none")
    lines: list[str] = []
    current = None
    for offer in offers:
        if offer.proposal != current:
            current = offer.proposal
            count = sum(o.proposal == current for o in offers)
            title = offer.title
            lines.append(
                ctx.t("admin.volunteers.laureate", reference=current, title=title, count=count)
            )
        lines.append(
            ctx.t(
                "admin.volunteers.item",
                reference=offer.reference,
                collectivite=offer.collectivite,
                commitment=offer.commitment or "",
                contact=(
                    ctx.t("admin.volunteers.contact_erased")
                    if offer.author_erased
                    else offer.contact or ""
                ),
                agreement=in_sentence(
                    ctx.t(f"form.volontaire.elu_agreement.options.{offer.elu_agreement}")
                ),
            )
        )
    return "\n".join(lines)


def run_listing(turn: Turn, argument: str) -> None:
    turn.say(listing(turn.ctx, argument))


def _push(turn: Turn, argument: str, kind: str) -> None:
    found = pushes.draft(turn.ctx, argument, kind)
    if isinstance(found, str):
        turn.say(found)
    else:
        turn.push(CONFIRM_PUSH, **found.as_data())


def run_write_volunteers(turn: Turn, argument: str) -> None:
    _push(turn, argument, "volontaires")


def run_news(turn: Turn, argument: str) -> None:
    _push(turn, argument, "suiveurs")


COMMANDS = (
    CommandSpec("volontaires", run_listing, admin=True),
    CommandSpec("ecrire-volontaires", run_write_volunteers, admin=True),
    CommandSpec("nouvelles", run_news, admin=True),
)
