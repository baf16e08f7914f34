"""The consultation calendar: four phases with inclusive start and end dates, and the
announcements each phase sends (its opening, reminders before its end, its closing)."""

from __future__ import annotations

import itertools
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

DEFAULT_CALENDAR = Path(__file__).with_name("calendar.toml")
PHASE_IDS = ("collecte", "vote", "referents", "deploiement")
KINDS = ("ouverture", "rappel", "cloture")
DEFAULT_REMINDERS = (7, 1)
"""Reminders, in days before a phase's last day, when the calendar names none (J-7, J-1)."""
DEFAULT_AUDIENCES = {
    ("collecte", "ouverture"): "agents",
    ("collecte", "rappel"): "agents",
    ("collecte", "cloture"): "contributeurs",
    ("vote", "ouverture"): "votants",
    ("vote", "rappel"): "sans_soutien",
    ("vote", "cloture"): "participants_vote",
    ("referents", "ouverture"): "agents",
    ("referents", "rappel"): "agents",
    ("referents", "cloture"): "volontaires",
    ("deploiement", "ouverture"): "suiveurs",
    ("deploiement", "rappel"): "suiveurs",
    ("deploiement", "cloture"): "suiveurs",
}
"""Who hears each announcement when the calendar does not say (``bot.consultation.audiences``)."""
OPENED_BY_CALLS = ("referents",)
"""Phases whose opening is not a default announcement: the référent phase opens with one
call per laureate, to its contributors and supporters first
(``bot/consultation/referent_calls.py``); a calendar may still list an opening."""
CLOSING_DELAY = timedelta(days=1)
LAST_CLOSING_VALID = timedelta(days=14)


@dataclass(frozen=True, slots=True)
class Announcement:
    """A message the schedule sends once, from ``on`` (a date in the calendar's zone) while
    it is still meaningful (until ``until``, inclusive); ``id`` names its campaign."""

    id: str
    phase: str
    kind: str
    on: date
    until: date
    audience: str
    message: str

    def due(self, day: date) -> bool:
        return self.on <= day <= self.until


@dataclass(frozen=True, slots=True)
class Phase:
    id: str
    label: str
    start: date
    end: date
    announcements: tuple[dict[str, Any], ...] = field(default=(), compare=False)

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


class Calendar:
    """The phases in order; dates are compared in the consultation's time zone."""

    def __init__(self, phases: list[Phase], zone: ZoneInfo) -> None:
        ids = [phase.id for phase in phases]
        if ids != list(PHASE_IDS):
            raise ValueError(f"the calendar must list the phases {', '.join(PHASE_IDS)} in order")
        for phase in phases:
            if phase.end < phase.start:
                raise ValueError(f"phase {phase.id} ends before it starts")
        for before, after in itertools.pairwise(phases):
            if after.start <= before.end:
                raise ValueError(f"phase {after.id} starts before {before.id} ends")
        self.phases = tuple(phases)
        self.zone = zone

    @classmethod
    def load(cls, zone: ZoneInfo, path: Path | None = None) -> Calendar:
        with (path or DEFAULT_CALENDAR).open("rb") as handle:
            data = tomllib.load(handle)
        return cls(
            [
                Phase(
                    p["id"],
                    p["label"],
                    p["start"],
                    p["end"],
                    tuple(p.get("announcement", ())),
                )
                for p in data["phase"]
            ],
            zone,
        )

    def announcements(self) -> list[Announcement]:
        """Every announcement of the consultation, in date order.

        A phase that lists none gets its opening (the référent phase: its calls instead),
        reminders at J-7 and J-1 and its closing.
        An opening or a reminder is meaningful until its phase ends; a closing until the
        next phase starts (two weeks after the last one).
        """
        found: list[Announcement] = []
        for index, phase in enumerate(self.phases):
            after = (
                self.phases[index + 1].start - timedelta(days=1)
                if index + 1 < len(self.phases)
                else phase.end + LAST_CLOSING_VALID
            )
            entries = phase.announcements or _default_entries(phase.id)
            for entry in entries:
                found.append(_announcement(phase, entry, after))
        return sorted(found, key=lambda a: (a.on, a.id))

    def today(self, now: datetime) -> date:
        return now.astimezone(self.zone).date()

    def get(self, phase_id: str) -> Phase:
        return next(phase for phase in self.phases if phase.id == phase_id)

    def current(self, now: datetime) -> Phase | None:
        day = self.today(now)
        return next((phase for phase in self.phases if phase.contains(day)), None)

    def is_open(self, phase_id: str, now: datetime) -> bool:
        return self.get(phase_id).contains(self.today(now))

    def upcoming(self, now: datetime) -> Phase | None:
        day = self.today(now)
        return next((phase for phase in self.phases if phase.start > day), None)

    def end_of(self, day: date) -> datetime:
        """The first instant after ``day`` in the calendar's zone: when a push meaningful
        through ``day`` expires."""
        return datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.zone)

    def written_until(self, now: datetime) -> datetime | None:
        """When a push written at ``now`` outside the schedule (an administrator's message,
        the publication notices) stops making sense: at the end of the phase under way, or,
        between two phases, of the next one. None after the last phase: nothing ends it."""
        phase = self.current(now) or self.upcoming(now)
        return self.end_of(phase.end) if phase is not None else None


MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def _default_entries(phase_id: str) -> tuple[dict[str, Any], ...]:
    reminders = tuple({"kind": "rappel", "days_before_end": n} for n in DEFAULT_REMINDERS)
    opening = () if phase_id in OPENED_BY_CALLS else ({"kind": "ouverture"},)
    return (*opening, *reminders, {"kind": "cloture"})


def _announcement(phase: Phase, entry: dict[str, Any], closing_until: date) -> Announcement:
    kind = entry.get("kind")
    if kind not in KINDS:
        raise ValueError(f"phase {phase.id}: announcement kind {kind!r} not in {KINDS}")
    if kind == "ouverture":
        on, until, name = phase.start, phase.end, f"{phase.id}-ouverture"
    elif kind == "rappel":
        days = int(entry.get("days_before_end", 1))
        on, until, name = phase.end - timedelta(days=days), phase.end, f"{phase.id}-rappel-j{days}"
    else:
        on, until, name = phase.end + CLOSING_DELAY, closing_until, f"{phase.id}-cloture"
    audience = entry.get("audience") or DEFAULT_AUDIENCES[(phase.id, kind)]
    message = entry.get("message") or f"annonces.{phase.id}.{kind}"
    return Announcement(name, phase.id, kind, max(on, phase.start), until, audience, message)


def french_date(day: date, *, month: bool = True, year: bool = True) -> str:
    """``1er février 2027``, ``15 mars 2027``; without the year (``15 février``), or the
    month and year (``1er``), for the first day of a span (:func:`french_span`)."""
    number = "1er" if day.day == 1 else str(day.day)
    if not month:
        return number
    named = f"{number} {MONTHS[day.month - 1]}"
    return f"{named} {day.year}" if year else named


def french_span(start: date, end: date) -> tuple[str, str]:
    """The two ends of a span as French writes them after « du » and « au »: the year once
    when both share it, the month too (``15 février`` / ``15 mars 2027``, ``1er`` /
    ``30 avril 2027``, ``2 novembre 2026`` / ``31 janvier 2027``)."""
    same_year = start.year == end.year
    same_month = same_year and start.month == end.month
    return french_date(start, month=not same_month, year=not same_year), french_date(end)
