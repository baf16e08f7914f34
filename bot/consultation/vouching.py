"""Vouching for agents, so that their collectivité's supports count as verified.

Three ways (:mod:`storage.ops.vouching` computes the result when supports are read):

- an administrator validates an e-mail domain for a collectivité (``!domaine vichy.fr
  Vichy``): its agents whose Tchap address is at that domain, or a subdomain, are vouched
  for;
- an agent types their collectivité's invitation code (``code ABCD-1234``, or follows the
  Telegram link ``/start ABCD-1234``). One code per collectivité, reusable by all its
  agents: the organisers send it to the collectivité, whoever reads its mail may vote for
  it. A code vouches only for an agent whose profile names its collectivité;
- an administrator validates the agent (``!nonverifies`` lists them, ``!valider 12``).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import cast

from bot.dialogue.context import Context
from storage.email_domains import says_nothing_of_the_employer
from storage.ops.vouching import CODE_PATTERN, normalize_domain
from storage.referential import CollectiviteKind, CollectiviteRef, Referential, normalize

MAX_CODE_ATTEMPTS = 10
"""Wrong codes one person may type in a day: guessing one among 8.5 × 10¹¹ stays hopeless."""
CODE_ATTEMPTS_WINDOW = timedelta(days=1)
UNVOUCHED_SHOWN = 30
CONTRIBUTION_REFERENCE = re.compile(r"[BS]-?\d{1,6}", re.IGNORECASE)


def is_code(text: str) -> bool:
    return CODE_PATTERN.fullmatch(text.strip()) is not None


def resolve(referential: Referential, query: str) -> list[CollectiviteRef]:
    """The collectivités an administrator's text may name; exactly one when it is clear.

    An official code (INSEE, or SIREN for an EPCI) picks its collectivité even when it is
    also a postal code of others.
    """
    found = referential.search(query.strip(), limit=10)
    by_code = [ref for ref in found if ref.code == query.strip().upper()]
    return by_code if len(by_code) == 1 else found


def collectivite_label(ctx: Context, collectivite_id: int) -> str:
    row = ctx.tx.collectivite(collectivite_id)
    if row is None:
        return "?"
    ref = ctx.services.referential.get(cast(CollectiviteKind, row.kind), row.code)
    return ref.label if ref is not None else row.name


def use_code(ctx: Context, typed: str) -> str:
    """An agent typed an invitation code: vouched for if it is their collectivité's."""
    agent = ctx.agent
    if agent is None or agent.collectivite_id is None:
        return ctx.t("vouching.code.profile_needed")
    if ctx.tx.failed_code_attempts(ctx.actor, CODE_ATTEMPTS_WINDOW) >= MAX_CODE_ATTEMPTS:
        return ctx.t_team("vouching.code.too_many")
    own = collectivite_label(ctx, agent.collectivite_id)
    of_code = ctx.tx.collectivite_of_code(typed) if is_code(typed) else None
    if of_code != agent.collectivite_id:
        reason = "unknown" if of_code is None else "other"
        ctx.tx.audit(ctx.actor, "vouch.code_refused", subject=f"agent:{agent.id}", reason=reason)
        return ctx.t(f"vouching.code.{reason}", collectivite=own)
    if not ctx.tx.vouch_agent(ctx.actor, agent.id, agent.collectivite_id, "code"):
        return ctx.t("vouching.code.already", collectivite=own)
    return ctx.t("vouching.code.accepted", collectivite=own)


def validate_domain(ctx: Context, argument: str) -> str:
    """``!domaine vichy.fr Vichy``: the domain vouches for the collectivité's Tchap agents."""
    typed_domain, _, query = argument.strip().partition(" ")
    domain = normalize_domain(typed_domain)
    if domain is None or not query.strip():
        return ctx.t("vouching.domain.usage")
    if says_nothing_of_the_employer(domain):
        return ctx.t("vouching.domain.generic", domain=domain)
    found = resolve(ctx.services.referential, query)
    if not found:
        return ctx.t("vouching.domain.not_found", query=query.strip()[:60])
    if len(found) > 1 or not _named(query, found[0]):  # a typo's guess is confirmed by code
        lines = [ctx.t("vouching.domain.candidate", label=r.label, code=r.code) for r in found]
        return "\n".join(
            [
                ctx.t("vouching.domain.ambiguous", query=query.strip()[:60]),
                *lines,
                ctx.t("vouching.domain.precise", domain=domain, code=found[0].code),
            ]
        )
    ref = found[0]
    collectivite_id = ctx.tx.upsert_collectivite(ref)
    holders = [c for c in ctx.tx.domain_holders(domain) if c != collectivite_id]
    if holders:  # one domain, one collectivité: the other's validation is withdrawn first
        held_by = collectivite_label(ctx, holders[0])
        return ctx.t("vouching.domain.held", domain=domain, collectivite=held_by)
    added = ctx.tx.validate_domain(ctx.actor, domain, collectivite_id)
    return ctx.t(
        "vouching.domain.done" if added else "vouching.domain.already",
        domain=domain,
        collectivite=ref.label,
    )


def remove_domain(ctx: Context, argument: str) -> str:
    """``!retirer-domaine vichy.fr``: the domain vouches for nobody any more."""
    domain = normalize_domain(argument.strip())
    if domain is None:
        return ctx.t("vouching.domain.remove_usage")
    holders = ctx.tx.remove_domain(ctx.actor, domain)
    if not holders:
        return ctx.t("vouching.domain.not_validated", domain=domain)
    return ctx.t(
        "vouching.domain.removed", domain=domain, collectivite=collectivite_label(ctx, holders[0])
    )


def _named(query: str, ref: CollectiviteRef) -> bool:
    """The administrator typed the collectivité's code, or its name (not a near miss)."""
    typed = query.strip()
    return typed.upper() == ref.code or f" {normalize(ref.name)} " in f" {normalize(typed)} "


def unvouched(ctx: Context) -> str:
    """``!nonverifies``: the agents whose supports are not verified, with their number."""
    supporters = ctx.tx.unvouched_supporters()
    if not supporters:
        return ctx.t("vouching.unvouched.none")
    lines = [ctx.t("vouching.unvouched.title", count=len(supporters))]
    for s in supporters[:UNVOUCHED_SHOWN]:
        where = f"{s.collectivite} ({s.departement})" if s.departement else s.collectivite
        lines.append(
            ctx.t(
                "vouching.unvouched.item",
                number=s.agent_id,
                fonction=s.fonction or "?",
                collectivite=where,
                transport=s.transport,
                email=f", {s.email}" if s.email else "",
                count=s.supports,
            )
        )
    if len(supporters) > UNVOUCHED_SHOWN:
        lines.append(ctx.t("vouching.unvouched.more", count=len(supporters) - UNVOUCHED_SHOWN))
    lines.append(ctx.t("vouching.unvouched.how", number=supporters[0].agent_id))
    return "\n".join(lines)


def validate_agent(ctx: Context, argument: str) -> str:
    """``!valider 12`` (the number ``!nonverifies`` shows) or ``!valider B-0042`` (its author)."""
    typed = argument.strip()
    if typed.isdigit():
        agent_id: int | None = int(typed)
    elif CONTRIBUTION_REFERENCE.fullmatch(typed):
        contribution = ctx.tx.contribution_by_reference(_contribution_reference(typed))
        agent_id = contribution.author_id if contribution is not None else None
    else:
        return ctx.t("vouching.validate.usage")
    found = ctx.tx.agent_collectivite(agent_id) if agent_id is not None else None
    if agent_id is None or found is None:
        return ctx.t("vouching.validate.unknown", typed=typed[:30])
    fonction, collectivite_id = found
    label = collectivite_label(ctx, collectivite_id)
    added = ctx.tx.vouch_agent(ctx.actor, agent_id, collectivite_id, "admin")
    return ctx.t(
        "vouching.validate.done" if added else "vouching.validate.already",
        number=agent_id,
        fonction=fonction or "?",
        collectivite=label,
    )


def mine_note(ctx: Context, supports: list[tuple[bool, bool]]) -> str:
    """What ``mes soutiens`` adds: whether the supports are verified, and how to get there.

    ``supports``: (verified, given by this agent) each. How to be verified is told to an
    agent whose own supports wait for it; supports that only colleagues gave are theirs
    to verify."""
    agent = ctx.agent
    if not supports or agent is None or agent.collectivite_id is None:
        return ""
    if all(verified for verified, _ in supports):
        return ctx.t("vouching.mine.all_verified", count=len(supports))
    waiting = any(not verified and own for verified, own in supports)
    if waiting and not ctx.tx.is_vouched(agent.id, agent.collectivite_id):
        return ctx.t_team("vouching.mine.how")
    return ctx.t("vouching.mine.colleagues")


def _contribution_reference(typed: str) -> str:
    digits = "".join(ch for ch in typed if ch.isdigit())
    return f"{typed[0].upper()}-{int(digits):04d}"
