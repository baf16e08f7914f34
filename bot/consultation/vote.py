"""The vote: collectivités support (soutiennent) the published proposals.

One support per collectivité per proposal (the database enforces it); élus and agents of a
collectivité vote, partners do not; supports are given and withdrawn only while the vote is
open. The database, never a platform's poll count, is the truth: a poll answer is turned
into the supports it adds and withdraws.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.consultation import vouching
from bot.core.values import Choice, Outgoing, OutPoll, OutText
from bot.dialogue.context import Context
from config.calendar import french_date
from storage.campaigns import VOTERS
from storage.ops.base import proposal_reference
from storage.ops.supports import SupportOutcome, VotedProposal
from storage.records import ProposalRecord

POLL_PREFIX = "vote-"
REFERENCES = re.compile(r"(?:P[-\s]?\d{1,4}[\s,;]*(?:et\s+)?)+", re.IGNORECASE)
"""What follows ``voir``, ``soutenir``, ``retirer``: one or more proposal references."""
_CHOSEN_ONE = r"(?:P[-\s]?)?\d{1,4}\b"
CHOSEN = (
    rf"(?:(?:la|le|les|l['’])\s*)?{_CHOSEN_ONE}"
    rf"(?:(?:\s*[,;]\s*|\s+)(?:et\s+)?(?:la\s+)?{_CHOSEN_ONE})*[\s,;.]*"
)
"""What follows ``soutenir``, ``voter``, ``je soutiens``: references, and bare numbers
(« la 3 », « 3 et 5 »), which can only be proposals there."""
ALL = r"(?:tout|tous|toutes|l['’]ensemble)(?:\s+(?:les|des)\s+propositions)?[\s.!]*"
"""« soutenir tout »: answered by how to choose, since a support is a choice."""
SUPPORTED = re.compile(rf"{CHOSEN}|{ALL}", re.IGNORECASE)
OPTION_LABEL_MAX = 90


def references(argument: str) -> list[str]:
    found = re.findall(r"P[-\s]?(\d{1,4})", argument, flags=re.IGNORECASE)
    return list(dict.fromkeys(proposal_reference(n) for n in found))


def chosen(argument: str) -> list[str]:
    """The proposals ``soutenir`` names, with or without their « P- »; none for « tout »."""
    if re.fullmatch(ALL, argument.strip(), flags=re.IGNORECASE):
        return []
    found = re.findall(r"(?:P[-\s]?)?(\d{1,4})\b", argument, flags=re.IGNORECASE)
    return list(dict.fromkeys(proposal_reference(n) for n in found))


def refusal(ctx: Context) -> str | None:
    """Why this agent may not support now (wrong phase, a partner), or None."""
    return phase_refusal(ctx, "vote", "vote")


def phase_refusal(ctx: Context, phase_id: str, messages: str) -> str | None:
    """Why an élu or agent may not act for their collectivité in ``phase_id`` now (before or
    after it, no profile, a partner), in the texts of ``messages``; None when they may."""
    calendar = ctx.services.calendar
    phase = calendar.get(phase_id)
    today = calendar.today(ctx.now)
    if today < phase.start:
        return ctx.t(f"{messages}.not_open", start=french_date(phase.start))
    if today > phase.end:
        return ctx.t_team(f"{messages}.closed", end=french_date(phase.end))
    if ctx.agent is None or ctx.agent.collectivite_id is None:
        return ctx.t(f"{messages}.profile_needed")
    if ctx.agent.profile not in VOTERS:
        return ctx.t(f"{messages}.partner")
    return None


def support(ctx: Context, refs: Iterable[str]) -> str:
    refused = refusal(ctx)
    if refused is not None:
        return refused
    assert ctx.agent is not None and ctx.agent.collectivite_id is not None
    lines = []
    for reference in refs:
        outcome = ctx.tx.support(ctx.actor, ctx.agent.id, ctx.agent.collectivite_id, reference)
        merged = merged_into(ctx, reference) if outcome.value == "not_open" else None
        if merged is not None:  # where its contributions went, and how to support that
            into, published = merged
            key = "vote.support.merged" if published else "vote.support.merged_closed"
            lines.append(ctx.t(key, reference=reference, into=into))
        else:
            colleague = ctx.t("colleague.unnamed")  # the outcomes it shares with a withdrawal
            lines.append(
                ctx.t(f"vote.support.{outcome.value}", reference=reference, colleague=colleague)
            )
    return "\n".join(lines)


def merged_into(ctx: Context, reference: str) -> tuple[str, bool] | None:
    """The proposal ``reference`` was merged into (following merges of merges), and whether
    that one is put to the vote; None when it was not merged."""
    detail = ctx.tx.proposal(reference)
    seen = {reference}
    while detail is not None and detail.proposal.merged_into and len(seen) < 20:
        into = detail.proposal.merged_into
        seen.add(into)
        detail = ctx.tx.proposal(into)
        if detail is None or not detail.proposal.merged_into:
            return into, detail is not None and detail.proposal.status == "publiee"
    return None


def choose(ctx: Context) -> str:
    """« soutenir tout »: each support is a choice of the collectivité; how to make it."""
    refused = refusal(ctx)
    if refused is not None:
        return refused
    example = " ".join(p.reference for p in ctx.tx.voted_proposals()[:2]) or "P-012 P-031"
    return ctx.t("vote.support.choose", example=example)


def withdraw(ctx: Context, refs: Iterable[str]) -> str:
    refused = refusal(ctx)
    if refused is not None:
        return refused
    assert ctx.agent is not None and ctx.agent.collectivite_id is not None
    lines = []
    for reference in refs:
        outcome = ctx.tx.withdraw_support(
            ctx.actor, ctx.agent.id, ctx.agent.collectivite_id, reference
        )
        author: str | None = None
        if outcome == SupportOutcome.NOT_YOURS:  # who to ask
            given = ctx.tx.supports_of(ctx.agent.collectivite_id)
            author = next((s.author_fonction for s in given if s.reference == reference), None)
        colleague = colleague_named(ctx, author)
        lines.append(
            ctx.t(f"vote.withdraw.{outcome.value}", reference=reference, colleague=colleague)
        )
    return "\n".join(lines)


def colleague_named(ctx: Context, fonction: str | None) -> str:
    """A colleague of the agent's collectivité, by the fonction in their profile (public with
    their contributions), so that the agent knows whom to ask; never their address."""
    fonction = (fonction or "").strip()
    return ctx.t("colleague.named", fonction=fonction) if fonction else ctx.t("colleague.unnamed")


def mine(ctx: Context) -> str:
    if ctx.agent is None or ctx.agent.collectivite_id is None:
        return ctx.t("vote.profile_needed")
    if ctx.agent.profile not in VOTERS:  # a partner's organisation supports nothing
        return ctx.t("vote.partner")
    given = ctx.tx.supports_of(ctx.agent.collectivite_id)
    if not given:
        end = ctx.services.calendar.get("vote").end
        if ctx.services.calendar.today(ctx.now) > end:  # no « encore », no invitation to vote
            return ctx.t("vote.mine.none_closed", end=french_date(end))
        return ctx.t("vote.mine.none")
    lines = [
        ctx.t(
            "vote.mine.item",
            reference=s.reference,
            title=s.title,
            who=ctx.t("vote.mine.you")
            if s.agent_id == ctx.agent.id
            else ctx.t("vote.mine.colleague", colleague=colleague_named(ctx, s.author_fonction)),
            verified=ctx.t("vouching.mine.verified" if s.verified else "vouching.mine.unverified"),
        )
        for s in given
    ]
    note = vouching.mine_note(ctx, [(s.verified, s.agent_id == ctx.agent.id) for s in given])
    return "\n".join([ctx.t("vote.mine.title", count=len(given)), *lines, note]).strip()


def listing(ctx: Context) -> list[Outgoing]:
    """The proposals by thématique: a message listing them, then a poll while the vote is
    open (platforms without polls show numbered lines; ``soutenir P-012`` works anywhere)."""
    proposals = ctx.tx.voted_proposals()
    if not proposals:
        return [OutText(ctx.t("vote.none_published"))]
    open_now = refusal(ctx) is None
    out: list[Outgoing] = [
        OutText(ctx.t("vote.listing.intro" if open_now else "vote.listing.read"))
    ]
    taxonomy = ctx.services.taxonomy
    by_theme: dict[str, list[VotedProposal]] = {}
    for proposal in proposals:
        by_theme.setdefault(proposal.thematique, []).append(proposal)
    for thematique, items in by_theme.items():
        lines = [ctx.t("vote.listing.item", reference=p.reference, title=p.title) for p in items]
        out.append(OutText(f"{taxonomy.label(thematique)}\n" + "\n".join(lines)))
        if open_now:
            options = tuple(
                Choice(p.reference, f"{p.reference} · {p.title}"[:OPTION_LABEL_MAX]) for p in items
            )
            question = ctx.t("vote.poll", thematique=taxonomy.label(thematique))
            hint = ctx.t("vote.poll_text_hint", example=" ".join(p.reference for p in items[:2]))
            poll_id = f"{POLL_PREFIX}{thematique}"
            out.append(OutPoll(question, options, poll_id, multiple=True, text_hint=hint))
    return out


def show(ctx: Context, refs: Iterable[str]) -> str:
    texts = []
    may_vote = refusal(ctx) is None
    for reference in refs:
        detail = ctx.tx.proposal(reference)
        if detail is None or detail.proposal.status not in ("publiee", "retenue", "non_retenue"):
            if detail is not None and _supported_by_own(ctx, detail.proposal.reference):
                # listed by « mes soutiens »: it exists, it is no longer put to the vote
                texts.append(ctx.t("vote.show_withdrawn", **_named(detail.proposal)))
            else:
                texts.append(ctx.t("vote.support.unknown", reference=reference))
            continue
        proposal = detail.proposal
        names = detail.collectivites
        hint = ""
        if may_vote and proposal.status == "publiee":  # how to support it, or that it is
            assert ctx.agent is not None and ctx.agent.collectivite_id is not None
            given = ctx.tx.poll_supports(ctx.agent.collectivite_id, proposal.thematique)
            key = "vote.show_supported" if given.get(proposal.reference) else "vote.show_hint"
            hint = "\n" + ctx.t(key, reference=proposal.reference)
        elif proposal.status in ("retenue", "non_retenue"):
            hint = "\n" + outcome(ctx, proposal.reference, proposal.status)
        texts.append(
            ctx.t(
                "vote.show",
                reference=proposal.reference,
                title=proposal.title,
                # on its own line; none without a description (no blank line)
                description=f"\n{proposal.description}" if proposal.description else "",
                thematique=ctx.services.taxonomy.label(proposal.thematique),
                collectivites=", ".join(names),
                hint=hint,
            )
        )
    return "\n\n".join(texts)


def _named(proposal: ProposalRecord) -> dict[str, str]:
    return {"reference": proposal.reference, "title": proposal.title}


def _supported_by_own(ctx: Context, reference: str) -> bool:
    """Whether the agent's collectivité has a standing support for ``reference``."""
    if ctx.agent is None or ctx.agent.collectivite_id is None:
        return False
    return any(s.reference == reference for s in ctx.tx.supports_of(ctx.agent.collectivite_id))


def outcome(ctx: Context, reference: str, status: str) -> str:
    """What became of a proposal once the laureates are chosen: not selected; or selected,
    with the territoires référents it is built with (their offers are public). How to follow
    its news is the déploiement menu's to say (:func:`bot.consultation.follow.menu_lines`)."""
    if status != "retenue":
        return ctx.t("vote.outcome.non_retenue")
    names = [offer.collectivite for offer in ctx.tx.volunteers(reference)]
    calendar = ctx.services.calendar
    called = calendar.today(ctx.now) > calendar.get("referents").end  # the call is over
    if called:
        key = "vote.outcome.built" if names else "vote.outcome.built_alone"
    else:
        key = "vote.outcome.retenue_volunteers" if names else "vote.outcome.retenue"
    return ctx.t(key, count=len(names), names=", ".join(names))


def poll_answer(
    ctx: Context, poll_id: str, chosen: Iterable[str], previous: Iterable[str]
) -> tuple[str, bool]:
    """A vote cast, changed or retracted in a poll: the supports it adds and withdraws.

    Every option ticked is supported (an existing support stays as it is); unticking
    withdraws only what the answer before had ticked (``previous``), and only the supports
    this agent gave: a support given by text, or by a colleague, is not the poll's to
    withdraw. Returns the reply and whether the answer counted (not refused).
    """
    refused = refusal(ctx)
    if refused is not None:
        return refused, False
    assert ctx.agent is not None and ctx.agent.collectivite_id is not None
    thematique = poll_id.removeprefix(POLL_PREFIX)
    given = ctx.tx.poll_supports(ctx.agent.collectivite_id, thematique)
    offered = given.keys()
    wanted = {proposal_reference(r) for r in chosen} & offered
    unticked = ({proposal_reference(r) for r in previous} & offered) - wanted
    current = {reference: agent for reference, agent in given.items() if agent is not None}
    added = sorted(wanted - set(current))
    removed = sorted(r for r in unticked if current.get(r) == ctx.agent.id)
    lines = [support(ctx, added)] if added else []
    if removed:
        lines.append(withdraw(ctx, removed))
    return "\n".join(lines) or ctx.t("vote.poll_unchanged"), True


def is_vote_poll(poll_id: str) -> bool:
    return poll_id.startswith(POLL_PREFIX)
