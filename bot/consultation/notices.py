"""Telling contributors what became of their contributions, once proposals are published.

Each contributor receives one message per publication, naming for each of their
contributions whose fate is new the published proposal it joined (its title, a short
description, the other collectivités behind it), or the redirection message, or the
rejection reason. The messages are queued through a campaign (``publication-<n>``, one
delivery per agent) in the transaction that publishes, and each fate told is audited: a
second publication tells nothing twice, and a restart sends only what was not sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.consultation.campaigns import Campaign, queue_personal_campaign
from bot.core.values import Outgoing, OutText
from config.calendar import Calendar
from config.catalogue import Catalogue
from config.typography import french
from storage import campaigns as stored
from storage.campaigns import Recipient
from storage.ops.notices import Fate
from storage.store import Tx

CAMPAIGN_PREFIX = "publication-"
AUDIENCE = "contributeurs"
DESCRIPTION_SHOWN = 200
OTHERS_SHOWN = 8
VOTE = "vote"


@dataclass(frozen=True, slots=True)
class Notices:
    campaign: str
    recipients: list[Recipient]
    told: int
    """Contributions whose fate was told."""


def notice_expiry(calendar: Calendar, now: datetime) -> datetime | None:
    """The end of the vote if it is still to come, else that of an administrator's message
    (:meth:`Calendar.written_until`)."""
    until = calendar.written_until(now)
    vote_ends = calendar.end_of(calendar.get(VOTE).end)
    if now < vote_ends and until is not None:
        return max(until, vote_ends)
    return until


def queue_notices(tx: Tx, catalogue: Catalogue, calendar: Calendar, actor: str) -> Notices | None:
    """Queue the notices of every fate not yet told; None when there is nothing new.

    A notice tells where a contribution goes to the vote: written before the vote ends, it
    lasts until then (a publication during the collecte reaches an agent who comes back in
    February); after, until the end of the phase under way (:func:`notice_expiry`)."""
    told = tx.fates_told()
    fresh = [f for f in tx.fates_to_tell() if told.get(f.reference) != f.told]
    if not fresh:
        return None
    places = tx.collectivites_of(sorted({f.proposal_id for f in fresh if f.proposal_id}))
    by_author: dict[int, list[Fate]] = {}
    for fate in fresh:
        by_author.setdefault(fate.author_id, []).append(fate)
    messages: dict[int, list[Outgoing]] = {
        author: [OutText(notice_text(catalogue, fates, places))]
        for author, fates in by_author.items()
    }
    campaign_id = CAMPAIGN_PREFIX + str(_next_publication(tx))
    recipients = queue_personal_campaign(
        tx,
        Campaign(
            campaign_id,
            "annonce",
            AUDIENCE,
            note="avis de publication",
            created_by=actor,
            expires_at=notice_expiry(calendar, tx.now),
        ),
        messages,
        tx.reachable(set(messages)),
    )
    if recipients is None:  # claimed by a concurrent publication: it tells them
        return None
    reached = {r.agent_id for r in recipients}
    told_now = [f for f in fresh if f.author_id in reached]
    tx.record_told(actor, campaign_id, told_now)
    return Notices(campaign_id, recipients, len(told_now))


def notice_text(
    catalogue: Catalogue, fates: list[Fate], places: dict[int, list[tuple[int, str]]]
) -> str:
    lines = [catalogue.t("notices.intro")]
    for fate in fates:
        if fate.status == "regroupee":
            others = [
                name
                for cid, name in places.get(fate.proposal_id or 0, [])
                if cid != fate.collectivite_id
            ]
            shown = ", ".join(others[:OTHERS_SHOWN])
            if len(others) > OTHERS_SHOWN:
                shown += catalogue.t("notices.more", count=len(others) - OTHERS_SHOWN)
            lines.append(
                catalogue.t(
                    "notices.grouped",
                    reference=fate.reference,
                    title=fate.title,
                    proposal=fate.proposal,
                    proposal_title=fate.proposal_title,
                    # a space before it only when there is one (no double space)
                    description=f" {_short(fate.proposal_description)}"
                    if fate.proposal_description
                    else "",
                    others=catalogue.t("notices.others", names=shown)
                    if others
                    else catalogue.t("notices.alone"),
                )
            )
        elif fate.status == "reorientee":
            link = catalogue.t("notices.link", url=fate.url) if fate.url else ""
            lines.append(
                catalogue.t(
                    "notices.redirected",
                    reference=fate.reference,
                    title=fate.title,
                    message=french(fate.message or ""),
                    link=link,
                )
            )
        else:
            lines.append(
                catalogue.t(
                    "notices.rejected",
                    reference=fate.reference,
                    title=fate.title,
                    message=french(fate.message or ""),
                )
            )
    lines.append(catalogue.t("annonces.stop_hint"))
    return "\n\n".join(lines)


def _next_publication(tx: Tx) -> int:
    numbers = [
        int(c[len(CAMPAIGN_PREFIX) :])
        for c in stored.recorded(tx)
        if c.startswith(CAMPAIGN_PREFIX) and c[len(CAMPAIGN_PREFIX) :].isdigit()
    ]
    return max(numbers, default=0) + 1


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= DESCRIPTION_SHOWN else text[: DESCRIPTION_SHOWN - 1] + "…"
