"""Campaigns: what the schedule announces, when, and to whom; and queuing one exactly once.

The calendar (``config/calendar.toml``) declares each phase's announcements; this module
decides which are due on a given day, which are no longer meaningful (missed while the bot
was down), and writes a campaign's deliveries in one transaction with its record.

Each push carries the moment it stops making sense (:attr:`Campaign.expires_at`): a push not
sent by then (the terminal's agent was away, the platform was down, the sending window
stayed closed) is marked expired instead of being sent late. An announcement lasts as long
as it would still be queued after an outage (:attr:`Announcement.until`), a référent call
its phase, a push written outside the schedule the phase it was written in
(:meth:`Calendar.written_until`). Replies to an agent never expire.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from bot.core.values import Outgoing, OutText, outgoing_to_dict
from config.calendar import Announcement, Calendar, french_date
from config.catalogue import Catalogue
from storage import campaigns as stored
from storage.campaigns import Recipient
from storage.store import Tx


@dataclass(frozen=True, slots=True)
class Campaign:
    """A push: a scheduled announcement, or an administrator's message."""

    id: str
    kind: str
    audience: str
    phase: str | None = None
    note: str | None = None
    created_by: str | None = None
    expires_at: datetime | None = None
    """From then on, its deliveries not yet sent are expired (None: they never are)."""


@dataclass(frozen=True, slots=True)
class Plan:
    due: list[Announcement]
    skipped: list[tuple[Announcement, str]]  # with the reason, for the journal


def plan(calendar: Calendar, day: date, recorded: set[str]) -> Plan:
    """The announcements to send on ``day``, and those to record as skipped.

    An announcement missed while the bot was down is still sent while it is meaningful
    (before its phase ends); past that it is skipped. Of two reminders of one phase due
    together, only the later is sent.
    """
    due: list[Announcement] = []
    skipped: list[tuple[Announcement, str]] = []
    for announcement in calendar.announcements():
        if announcement.id in recorded or announcement.on > day:
            continue
        if day > announcement.until:
            skipped.append((announcement, "no longer meaningful"))
        else:
            due.append(announcement)
    latest: dict[str, Announcement] = {}
    for announcement in due:
        if announcement.kind == "rappel":
            latest[announcement.phase] = announcement  # in date order: the last wins
    kept = [a for a in due if a.kind != "rappel" or latest[a.phase] is a]
    skipped += [(a, "superseded by a later reminder") for a in due if a not in kept]
    return Plan(kept, skipped)


UPCOMING_SHOWN = 3


def audience_label(t: Callable[..., str], audience: str) -> str:
    """An audience as administrators read it: ``volontaires:P-012`` → « les volontaires de
    P-012 » (``audience.*`` in the catalogue). A name the catalogue does not know (a campaign
    stored under an audience since renamed) is shown as it is."""
    name, colon, reference = audience.partition(":")
    key = f"audience.laureate.{name}" if colon else f"audience.{name}"
    try:
        return t(key, reference=reference.strip())
    except KeyError:
        return audience


def progress_report(
    t: Callable[..., str],
    calendar: Calendar,
    today: date,
    progress: Sequence[stored.CampaignProgress],
    upcoming_shown: int = UPCOMING_SHOWN,
    calls_due: Sequence[Campaign] = (),
    calls_upcoming: Sequence[tuple[Campaign, date]] = (),
) -> str:
    """Every campaign with its deliveries by status, then what is due and what comes next
    (the calendar's announcements and the référent calls, ``calls_*``, which are written
    from the laureates); the title counts the lines listed."""
    lines = []
    for item in progress:
        lines.append(
            t(
                f"campaigns.item.{'skipped' if item.status == 'skipped' else 'queued'}",
                id=item.id,
                audience=audience_label(t, item.audience),
                recipients=item.recipients,
                sent=item.sent,
                pending=item.pending,
                failed=item.failed,
                blocked=item.blocked,
                expired=item.expired,
                erased=t("campaigns.item.erased", erased=item.erased) if item.erased else "",
            )
        )
    recorded = {item.id for item in progress}
    todo = plan(calendar, today, recorded)  # the scheduler's own rule, before it has run
    for announcement, _reason in todo.skipped:  # recorded as such at the next tick
        lines.append(
            t(
                "campaigns.item.skipped",
                id=announcement.id,
                audience=audience_label(t, announcement.audience),
            )
        )
    due = [(a.id, a.audience) for a in todo.due]
    for ident, audience in due + [(c.id, c.audience) for c in calls_due]:
        lines.append(t("campaigns.due", id=ident, audience=audience_label(t, audience)))
    upcoming = [
        (a.on, a.id, a.audience)
        for a in calendar.announcements()
        if a.id not in recorded and a.on > today
    ] + [(on, c.id, c.audience) for c, on in calls_upcoming]
    upcoming.sort(key=lambda item: item[0])  # stable: the calendar's order on one day
    for on, ident, audience in upcoming[:upcoming_shown]:
        lines.append(
            t(
                "campaigns.upcoming",
                id=ident,
                date=french_date(on),
                audience=audience_label(t, audience),
            )
        )
    return "\n".join([t("campaigns.title", count=len(lines)), *lines])


def campaign_of(calendar: Calendar, announcement: Announcement) -> Campaign:
    """An announcement's campaign: sent until the day it would still be queued (``until``:
    its phase's last day; for a closing, the day before the next phase opens)."""
    return Campaign(
        announcement.id,
        announcement.kind,
        announcement.audience,
        phase=announcement.phase,
        expires_at=calendar.end_of(announcement.until),
    )


def announcement_messages(
    catalogue: Catalogue,
    calendar: Calendar,
    announcement: Announcement,
    results: str = "",
    decision: str = "",
) -> list[Outgoing]:
    """The text of an announcement, with its phase's dates and the way to stop pushes;
    ``results``: the vote's ranking, and ``decision``: whether the laureates are chosen, for
    the texts that show them."""
    phase = calendar.get(announcement.phase)
    following = next(
        (p for p in calendar.phases if p.start > phase.end),
        None,
    )
    text = catalogue.t(
        announcement.message,
        label=phase.label,
        start=french_date(phase.start),
        end=french_date(phase.end),
        days=(phase.end - announcement.on).days,
        next_label=following.label if following else "",
        next_start=french_date(following.start) if following else "",
        results=results,
        decision=decision,
    )
    return [OutText(text + "\n\n" + catalogue.t("annonces.stop_hint"))]


def queue_campaign(
    tx: Tx, campaign: Campaign, messages: Sequence[Outgoing]
) -> list[Recipient] | None:
    """Record ``campaign`` and queue its messages for its audience, in ``tx``.

    None when the campaign was already recorded: nothing is queued twice.
    """
    if not _claim(tx, campaign):
        return None
    recipients = stored.recipients(tx, campaign.audience)
    payloads = [outgoing_to_dict(message) for message in messages]
    tx.queue_campaign_pushes(
        [(r.key, r.agent_id) for r in recipients],
        payloads,
        campaign.id,
        expires_at=campaign.expires_at,
    )
    stored.set_recipients(tx, campaign.id, len(recipients))
    return recipients


def _claim(tx: Tx, campaign: Campaign) -> bool:
    """Record the campaign; False when it already was (it must not be queued again)."""
    return stored.claim(
        tx,
        campaign.id,
        kind=campaign.kind,
        audience=campaign.audience,
        phase=campaign.phase,
        note=campaign.note,
        created_by=campaign.created_by,
    )


def skip(tx: Tx, announcement: Announcement, reason: str) -> bool:
    """Record an announcement that will not be sent (it must not come back later)."""
    return stored.claim(
        tx,
        announcement.id,
        kind=announcement.kind,
        audience=announcement.audience,
        phase=announcement.phase,
        status="skipped",
        note=reason,
    )


def queue_personal_campaign(
    tx: Tx,
    campaign: Campaign,
    messages: Mapping[int, Sequence[Outgoing]],
    reachable: Sequence[Recipient] | None = None,
) -> list[Recipient] | None:
    """Record ``campaign`` and queue each agent of ``messages`` their own messages, in ``tx``.

    Only agents its audience reaches are queued (a profile, no ``stop``, not blocked, a
    conversation), or those of ``reachable`` when the caller already knows them; None when
    the campaign was already recorded.
    """
    if not _claim(tx, campaign):
        return None
    if reachable is None:
        reachable = stored.recipients(tx, campaign.audience)
    recipients = [r for r in reachable if r.agent_id in messages]
    for recipient in recipients:
        payloads = [outgoing_to_dict(message) for message in messages[recipient.agent_id]]
        tx.queue_push(
            recipient.key, recipient.agent_id, payloads, campaign.id, expires_at=campaign.expires_at
        )
    stored.set_recipients(tx, campaign.id, len(recipients))
    return recipients
