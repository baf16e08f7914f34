"""Administrators' messages to the people of one laureate: its volunteers, its followers.

``!ecrire-volontaires P-012 « … »`` and ``!nouvelles P-012 « … »`` build a draft (the text
as agents will read it, its audience, a campaign id); the administrator sees it with the
number of recipients and confirms; the campaign is then queued once, in the turn's
transaction, and sent after it (``Context.pushed``).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from bot.consultation.campaigns import Campaign, queue_campaign
from bot.core.values import OutText
from bot.dialogue.context import Context
from bot.dialogue.parsing import clean_text, text_problem
from config.typography import french
from storage import campaigns as stored
from storage.ops.base import proposal_reference
from storage.ops.referents import LAUREATE

ARGUMENT = re.compile(r"(P[-\s]?\d{1,4})\s*[:,]?\s*(.*)", re.IGNORECASE | re.DOTALL)
QUOTES = ' \n«»"“”'
MESSAGE_MAX = 3000
PUSH_COUNTER = "push"


@dataclass(frozen=True, slots=True)
class PushDraft:
    """What a confirmation holds between two messages (stored in the frame's data)."""

    campaign: str
    """The campaign's name without its number (``annonce``, ``suiveurs-P-012``): numbered
    when confirmed (:func:`campaign_name`), so that an abandoned draft spends no number."""
    audience: str
    subject: str  # the laureate's reference
    message: str

    def as_data(self) -> dict[str, Any]:
        return asdict(self)


def draft(ctx: Context, argument: str, kind: str) -> PushDraft | str:
    """The draft of a ``kind`` push (``volontaires``, ``suiveurs``), or why there is none."""
    found = ARGUMENT.fullmatch(argument.strip())
    text = clean_text(found[2]).strip(QUOTES) if found else ""
    if found is None or text_problem(text, max_length=MESSAGE_MAX) is not None:
        return ctx.t(f"push.{kind}.usage", max=MESSAGE_MAX)
    reference = proposal_reference(found[1])
    detail = ctx.tx.proposal(reference)
    if detail is None or detail.proposal.status != LAUREATE:
        return ctx.t("push.not_laureate", reference=reference)
    audience = f"{kind}:{reference}"
    if not stored.recipients(ctx.tx, audience):
        return ctx.t(f"push.{kind}.nobody", reference=reference)
    message = ctx.t(  # the administrator writes in the bot's name: French spacing too
        f"push.{kind}.message", reference=reference, title=detail.proposal.title, text=french(text)
    )
    return PushDraft(f"{kind}-{reference}", audience, reference, message)


NUMBERED = re.compile(r".*-M-\d+")
"""A draft's campaign already numbered (previewed before numbers were given on sending)."""


def campaign_name(ctx: Context, prefix: str) -> str:
    """The confirmed campaign's unique name: ``suiveurs-P-012-M-0002``, ``annonce-M-0003``
    (the counter is shared, safe under concurrent writers, and never reused)."""
    if NUMBERED.fullmatch(prefix):
        return prefix
    return f"{prefix}-{ctx.tx.next_reference(PUSH_COUNTER)}"


def recipients_count(ctx: Context, data: dict[str, Any]) -> int:
    return len(stored.recipients(ctx.tx, data["audience"]))


def queue(ctx: Context, data: dict[str, Any]) -> str:
    """Queue a confirmed draft once; its recipients are sent to after the turn."""
    push = PushDraft(**data)
    name = campaign_name(ctx, push.campaign)
    calendar = ctx.services.calendar
    phase = calendar.current(ctx.now)
    campaign = Campaign(
        name,
        "annonce",
        push.audience,
        phase=phase.id if phase is not None else None,
        note=push.subject,
        created_by=ctx.actor,
        expires_at=calendar.written_until(ctx.now),
    )
    recipients = queue_campaign(ctx.tx, campaign, [OutText(push.message)])
    if recipients is None:
        return ctx.t("push.already", campaign=name)
    ctx.pushed.extend(r.key for r in recipients)
    ctx.tx.audit(
        ctx.actor,
        "push.queued",
        subject=name,
        audience=push.audience,
        recipients=len(recipients),
    )
    return ctx.t("push.queued", count=len(recipients))
