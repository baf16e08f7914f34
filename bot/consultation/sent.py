"""A contribution once sent: ``voir B-0002`` shows what is public of it to anyone;
``supprimer B-0002`` lets its author withdraw it while the team has not triaged it."""

from __future__ import annotations

import re

from bot.consultation.collectivites import lookup
from bot.dialogue.context import Context
from storage.models import Contribution, Proposal
from storage.ops.base import normalize_reference

REFERENCE = r"[BS][-\s]?\d{1,5}"
REFERENCES = re.compile(rf"(?:{REFERENCE}[\s,;]*(?:et\s+)?)+", re.IGNORECASE)
"""What follows ``supprimer``: contribution references."""


def references(argument: str) -> list[str]:
    """The contribution references in ``argument``: ``b2``, ``B-0002`` → ``B-0002``."""
    found = re.findall(REFERENCE, argument, flags=re.IGNORECASE)
    return list(dict.fromkeys(normalize_reference(typed) for typed in found))


def show(ctx: Context, refs: list[str]) -> str:
    """What anyone may read of these contributions: never who wrote them."""
    return "\n\n".join(_show_one(ctx, reference) for reference in refs)


def _show_one(ctx: Context, reference: str) -> str:
    found = ctx.tx.contribution_by_reference(reference)
    if found is None:
        return ctx.t("sent.unknown", reference=reference)
    collectivite = ctx.tx.collectivite(found.collectivite_id)
    assert collectivite is not None
    return ctx.t(
        "sent.show",
        reference=found.reference,
        kind=ctx.t(f"sent.kind.{found.kind}"),
        title=found.title,
        description=found.description,
        thematique=ctx.services.taxonomy.label(found.thematique),
        collectivite=lookup(ctx, collectivite.kind, collectivite.code).label,
        status=_status(ctx, found),
    )


def _status(ctx: Context, contribution: Contribution) -> str:
    if contribution.status == "regroupee" and contribution.proposal_id is not None:
        proposal = ctx.tx.session.get(Proposal, contribution.proposal_id)
        if proposal is not None:
            return ctx.t("sent.status.regroupee", proposal=proposal.reference, title=proposal.title)
    return ctx.t(f"sent.status.{contribution.status}")


def item(ctx: Context, reference: str) -> str:
    """One line naming a contribution: « • B-0002 « titre » »."""
    found = ctx.tx.contribution_by_reference(reference)
    title = found.title if found is not None else ""
    return ctx.t("sent.item", reference=reference, title=title)


def withdrawable(ctx: Context, reference: str) -> tuple[Contribution | None, str | None]:
    """The contribution this agent may withdraw now, or why not (a message to say)."""
    found = ctx.tx.contribution_by_reference(reference)
    agent = ctx.agent
    if found is None or agent is None or found.collectivite_id != agent.collectivite_id:
        return None, ctx.t("sent.withdraw.unknown", reference=reference)
    assert agent.id is not None
    if not ctx.tx.may_withdraw_contribution(found, agent.id):
        return None, ctx.t("sent.withdraw.not_yours", reference=reference)
    if found.status != "soumise" or found.proposal_id is not None:
        return None, ctx.t("sent.withdraw.triaged", reference=reference)
    if not ctx.services.calendar.is_open("collecte", ctx.now):
        return None, ctx.t("sent.withdraw.closed", reference=reference)
    return found, None


def withdraw(ctx: Context, reference: str) -> str:
    """Withdraw after the agent confirmed; the rules are checked again (time has passed)."""
    found, refused = withdrawable(ctx, reference)
    if found is None:
        return refused or ""
    ctx.tx.withdraw_contribution(found)
    ctx.tx.audit(ctx.actor, "contribution.withdrawn", subject=found.reference, kind=found.kind)
    return ctx.t("sent.withdraw.done", reference=reference, title=found.title)
