"""Territoires référents: collectivités volunteer to co-build the laureates.

During the référent phase, élus and agents of a collectivité (not partners) volunteer in a
short form (``volontaire``): for one or more laureates, what their collectivité brings, a
contact and whether an élu agreed. Each offer gets a reference (``V-0001``); ``mes
engagements`` lists them and ``retirer V-0001`` withdraws one until the phase ends.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from bot.consultation.vote import colleague_named, phase_refusal
from bot.dialogue.context import Context
from bot.forms.base import Completion, FormState
from config.calendar import french_date
from config.catalogue import Catalogue
from config.typography import in_sentence
from storage.ops.referents import LAUREATE, OfferOutcome, OfferRecord
from storage.records import ProposalRecord

FORM = "volontaire"
WITHDRAWABLE = re.compile(
    r"(?:(?:P[-\s]?\d{1,4}|V[-\s]?\d{1,5}|[BS][-\s]?\d{1,5})[\s,;]*(?:et\s+)?)+", re.IGNORECASE
)
"""What follows ``retirer``: proposal references (supports), offer references, and sent
contributions (``bot.consultation.sent``)."""
OFFER = re.compile(r"V[-\s]?\d{1,5}", re.IGNORECASE)
"""What follows ``modifier``: one offer reference."""


def references(argument: str) -> list[str]:
    """The offer references in ``argument``: ``v1``, ``V-0001`` → ``V-0001``."""
    found = re.findall(r"V[-\s]?(\d{1,5})", argument, flags=re.IGNORECASE)
    return list(dict.fromkeys(f"V-{int(n):04d}" for n in found))


def laureates(ctx: Context) -> list[ProposalRecord]:
    return [p for p in ctx.tx.proposals() if p.status == LAUREATE]


def refusal(ctx: Context) -> str | None:
    """Why this agent may not volunteer or withdraw now (wrong phase, a partner), or None."""
    return phase_refusal(ctx, "referents", "referents")


def open_for(ctx: Context) -> list[ProposalRecord]:
    """The laureates this agent may volunteer for: those their collectivité has not
    volunteered for yet, and those whose offer is theirs to update (:func:`updatable`)."""
    assert ctx.agent is not None and ctx.agent.collectivite_id is not None
    agent_id = ctx.agent.id
    offers = ctx.tx.offers_of(ctx.agent.collectivite_id)
    closed = {o.proposal for o in offers if not o.changeable_by(agent_id)}
    return [p for p in laureates(ctx) if p.reference not in closed]


def updatable(ctx: Context) -> dict[str, str]:
    """The laureates with a standing offer this agent may update: laureate → offer."""
    assert ctx.agent is not None and ctx.agent.collectivite_id is not None
    agent_id = ctx.agent.id
    offers = ctx.tx.offers_of(ctx.agent.collectivite_id)
    return {o.proposal: o.reference for o in offers if o.changeable_by(agent_id)}


PREFILLED = ("commitment", "contact", "elu_agreement")
"""What an offer for the same laureate brings back into a new form."""


def prefill(ctx: Context, answers: dict[str, Any], chosen: Iterable[str]) -> str | None:
    """Volunteering again for a laureate (to update the offer, or after withdrawing it):
    the form takes the answers of the agent's last offer for it instead of starting over;
    the profile's address put in as the contact gives way to the contact typed then.
    Answers typed in this form stay. Returns what to tell the agent: the offer taken up,
    or else that the contact is the profile's address, or None."""
    assert ctx.agent is not None and ctx.agent.collectivite_id is not None
    agent_id, collectivite_id = ctx.agent.id, ctx.agent.collectivite_id
    default = initial_answers(ctx).get("contact")
    for proposal in chosen:
        offer = ctx.tx.own_offer(agent_id, collectivite_id, proposal)
        if offer is None:
            continue
        for name in PREFILLED:
            value = getattr(offer, name)
            current = answers.get(name)
            if value and (current is None or (name == "contact" and current == default)):
                answers[name] = value
        key = "referents.prefilled" if offer.standing else "referents.prefilled_withdrawn"
        return ctx.t(key, reference=offer.reference, proposal=proposal)
    if default and answers.get("contact") == default:
        return ctx.t("referents.contact_prefilled", contact=default)
    return None


def start_refusal(ctx: Context) -> str | None:
    """Why the form cannot start: the rules, no laureate, or every laureate already offered."""
    refused = refusal(ctx)
    if refused is not None:
        return refused
    if not laureates(ctx):
        return ctx.t("referents.no_laureate")
    if not open_for(ctx):
        return ctx.t("referents.all_offered")
    return None


def initial_answers(ctx: Context) -> dict[str, str]:
    """The form starts with the profile's e-mail as the contact (editable in the summary),
    unless the laureate chosen brings back an offer's (:func:`prefill`)."""
    email = ctx.agent.email if ctx.agent is not None else None
    return {"contact": email} if email else {}


def submit(ctx: Context, form: FormState) -> Completion:
    """The form's ``on_complete``: one offer per chosen laureate, each with its reference."""
    refused = refusal(ctx)
    if refused is not None:  # the phase closed while the form was open
        return Completion(refused)
    assert ctx.agent is not None and ctx.agent.collectivite_id is not None
    answers = form.answers
    lines = []
    added: list[str] = []  # the references of the offers recorded now (not updated)
    for proposal in answers["laureats"]:
        result = ctx.tx.volunteer(
            ctx.actor,
            ctx.agent.id,
            ctx.agent.collectivite_id,
            proposal,
            commitment=answers["commitment"],
            contact=answers["contact"],
            elu_agreement=answers["elu_agreement"],
        )
        if result.outcome == OfferOutcome.ADDED and result.reference is not None:
            added.append(result.reference)
        lines.append(
            ctx.t(
                f"referents.offer.{result.outcome.value}",
                reference=result.reference or "",
                proposal=proposal,
            )
        )
    if added:
        end = french_date(ctx.services.calendar.get("referents").end)
        lines.append(ctx.t("referents.offer.next", count=len(added), reference=added[0], end=end))
    return Completion("\n".join(lines))


def update_refusal(ctx: Context, reference: str) -> str:
    """Why ``modifier V-0001`` cannot open that offer: a colleague's (named by their
    fonction), or none standing for the agent's collectivité."""
    assert ctx.agent is not None and ctx.agent.collectivite_id is not None
    offer = next(
        (o for o in ctx.tx.offers_of(ctx.agent.collectivite_id) if o.reference == reference), None
    )
    if offer is not None:
        colleague = colleague_named(ctx, offer.agent_fonction)
        return ctx.t("referents.update.not_yours", reference=reference, colleague=colleague)
    return ctx.t("referents.update.unknown", reference=reference)


def to_confirm(ctx: Context, refs: Iterable[str]) -> tuple[list[str], str]:
    """``retirer V-0001``: the standing offers this agent may withdraw, to confirm first,
    and the answer for the others (unknown, already withdrawn, a colleague's), at once."""
    refused = refusal(ctx)
    if refused is not None:
        return [], refused
    assert ctx.agent is not None and ctx.agent.collectivite_id is not None
    agent_id = ctx.agent.id
    offers = ctx.tx.offers_of(ctx.agent.collectivite_id)
    changeable = {o.reference for o in offers if o.changeable_by(agent_id)}
    asked = [r for r in refs if r in changeable]
    others = [r for r in refs if r not in changeable]
    return asked, withdraw(ctx, others) if others else ""


def withdrawal_question(ctx: Context, refs: list[str]) -> str:
    """Withdraw these offers? Named with their laureate, and how to update one instead."""
    assert ctx.agent is not None and ctx.agent.collectivite_id is not None
    offers = {o.reference: o for o in ctx.tx.offers_of(ctx.agent.collectivite_id)}
    items = [
        ctx.t("referents.withdraw.item", reference=r, proposal=o.proposal, title=o.title)
        for r in refs
        if (o := offers.get(r)) is not None
    ]
    return ctx.t(
        "referents.withdraw.confirm",
        count=len(refs),
        items="\n".join(items),
        reference=refs[0],
    )


def withdraw(ctx: Context, refs: Iterable[str]) -> str:
    refused = refusal(ctx)
    if refused is not None:
        return refused
    assert ctx.agent is not None
    lines = []
    for reference in refs:
        result = ctx.tx.withdraw_offer(
            ctx.actor, ctx.agent.id, reference, ctx.agent.collectivite_id
        )
        author: str | None = None
        if result.outcome == OfferOutcome.NOT_YOURS and ctx.agent.collectivite_id is not None:
            offers = ctx.tx.offers_of(ctx.agent.collectivite_id)
            author = next(
                (o.agent_fonction for o in offers if o.reference == reference and o.author_here),
                None,
            )
        lines.append(
            ctx.t(
                f"referents.withdraw.{result.outcome.value}",
                reference=reference,
                proposal=result.proposal or "",
                colleague=colleague_named(ctx, author),
            )
        )
    return "\n".join(lines)


def mine(ctx: Context) -> str:
    """The collectivité's standing offers, whoever made them."""
    if ctx.agent is None or ctx.agent.collectivite_id is None:
        return ctx.t("referents.profile_needed")
    offers = ctx.tx.offers_of(ctx.agent.collectivite_id)
    if not offers:
        return ctx.t("referents.mine.none")
    lines = [ctx.t("referents.mine.title", count=len(offers))]
    for offer in offers:
        if offer.agent_id == ctx.agent.id:
            who = ctx.t("referents.mine.you")
        else:
            named = colleague_named(ctx, offer.agent_fonction if offer.author_here else None)
            who = ctx.t("referents.mine.colleague", colleague=named)
        lines.append(
            ctx.t(
                "referents.mine.item",
                reference=offer.reference,
                proposal=offer.proposal,
                title=offer.title,
                agreement=in_sentence(
                    ctx.t(f"form.volontaire.elu_agreement.options.{offer.elu_agreement}")
                ),
                who=who,
            )
        )
    return "\n".join(lines)


VOLUNTEER_COLUMNS: tuple[str, ...] = (
    "laureat",
    "laureat_titre",
    "reference",
    "collectivite",
    "collectivite_type",
    "collectivite_code",
    "departement",
    "apport",
    "contact",
    "accord_elu",
    "agent_profil",
    "agent_fonction",
    "date",
)


def volunteer_records(offers: Iterable[OfferRecord], catalogue: Catalogue) -> list[dict[str, Any]]:
    """``recueil export --what volontaires``: one row per standing offer, by laureate. The
    élu agreement and the agent's profile are in words, as the bot says them (« C’est en
    cours », « Élu ou élue »), for the team reading the spreadsheet, not their stored codes;
    the contact of an offer whose author's data was erased says so."""
    erased_contact = catalogue.t("admin.volunteers.contact_erased_export")

    def label(prefix: str, code: str | None) -> str:
        key = f"{prefix}.{code}"
        return catalogue.t(key) if code and catalogue.has(key) else code or ""

    return [
        dict(
            zip(
                VOLUNTEER_COLUMNS,
                (
                    o.proposal,
                    o.title,
                    o.reference,
                    o.collectivite,
                    o.collectivite_kind,
                    o.collectivite_code,
                    o.departement or "",
                    o.commitment or "",
                    erased_contact if o.author_erased else o.contact or "",
                    label("form.volontaire.elu_agreement.options", o.elu_agreement),
                    label("form.profil.profil.options", o.agent_profile),
                    o.agent_fonction or "",
                    o.created_at.date().isoformat(),
                ),
                strict=True,
            )
        )
        for o in offers
    ]
