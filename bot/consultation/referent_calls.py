"""The calls for territoires référents, one per laureate, then one to everyone.

When the référent phase opens, each laureate's call (``referents-appel-P-012``) goes to the
contributors and supporters of that proposal (audience ``laureat:P-012``); a configurable
delay later (``RECUEIL_REFERENT_CALL_DELAY_DAYS``), one call listing every laureate
(``referents-appel-tous``) goes to every agent. Calls are due while the phase is open: a
laureate selected during the phase gets its call at the next tick; after the phase, none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.consultation.campaigns import Campaign
from bot.core.values import Outgoing, OutText
from config.calendar import Calendar, french_date
from config.catalogue import Catalogue
from storage import campaigns as stored
from storage.ops.referents import LAUREATE
from storage.records import ProposalRecord
from storage.store import Tx

PHASE = "referents"
KIND = "appel"
EVERYONE = "referents-appel-tous"


def call_id(reference: str) -> str:
    return f"referents-appel-{reference}"


def laureate_call(laureate: ProposalRecord, until: datetime | None = None) -> Campaign:
    reference = laureate.reference
    return Campaign(call_id(reference), KIND, f"laureat:{reference}", PHASE, expires_at=until)


def due_calls(
    calendar: Calendar,
    day: date,
    delay_days: int,
    laureates: list[ProposalRecord],
    recorded: set[str],
) -> list[tuple[Campaign, ProposalRecord | None]]:
    """The calls to queue on ``day``: each laureate's first, then the one to everyone.

    The call to everyone waits ``delay_days`` after the opening (at the latest, the last
    day of the phase), and for at least one laureate.
    """
    phase = calendar.get(PHASE)
    if not phase.contains(day) or not laureates:
        return []
    until = calendar.end_of(phase.end)  # a call not sent by the end of the phase expires
    due: list[tuple[Campaign, ProposalRecord | None]] = [
        (laureate_call(p, until), p) for p in laureates if call_id(p.reference) not in recorded
    ]
    everyone_on = min(phase.start + timedelta(days=delay_days), phase.end)
    if day >= everyone_on and EVERYONE not in recorded:
        due.append((Campaign(EVERYONE, KIND, "agents", phase=PHASE, expires_at=until), None))
    return due


@dataclass(frozen=True, slots=True)
class CallPlan:
    """What ``!envois`` and ``recueil phases`` show of the référent calls not yet queued."""

    due: list[Campaign]
    upcoming: list[tuple[Campaign, date]]


def planned_calls(
    calendar: Calendar,
    day: date,
    delay_days: int,
    laureates: list[ProposalRecord],
    recorded: set[str],
) -> CallPlan:
    """The calls due on ``day`` (queued at the next tick), and those to come with their day.

    Before any laureate is chosen nothing is planned: the calls are written from them.
    """
    due = [campaign for campaign, _ in due_calls(calendar, day, delay_days, laureates, recorded)]
    phase = calendar.get(PHASE)
    if not laureates or day > phase.end:
        return CallPlan(due, [])
    upcoming: list[tuple[Campaign, date]] = []
    if day < phase.start:
        upcoming += [
            (laureate_call(p), phase.start)
            for p in laureates
            if call_id(p.reference) not in recorded
        ]
    everyone_on = min(phase.start + timedelta(days=delay_days), phase.end)
    if day < everyone_on and EVERYONE not in recorded:
        upcoming.append((Campaign(EVERYONE, KIND, "agents", phase=PHASE), everyone_on))
    return CallPlan(due, upcoming)


def planned_in(tx: Tx, calendar: Calendar, day: date, delay_days: int) -> CallPlan:
    """:func:`planned_calls` for the laureates and campaigns stored."""
    laureates = [p for p in tx.proposals() if p.status == LAUREATE]
    return planned_calls(calendar, day, delay_days, laureates, stored.recorded(tx))


def call_messages(
    catalogue: Catalogue,
    calendar: Calendar,
    laureate: ProposalRecord | None,
    laureates: list[ProposalRecord],
) -> list[Outgoing]:
    """One laureate's call, or (``laureate`` None) the call to everyone listing them all."""
    end = french_date(calendar.get(PHASE).end)
    if laureate is not None:
        text = catalogue.t(
            "annonces.referents.appel.laureat",
            reference=laureate.reference,
            title=laureate.title,
            end=end,
        )
    else:
        items = "\n".join(
            catalogue.t("annonces.referents.appel.item", reference=p.reference, title=p.title)
            for p in laureates
        )
        text = catalogue.t("annonces.referents.appel.tous", items=items, end=end)
    return [OutText(text + "\n\n" + catalogue.t("annonces.stop_hint"))]
