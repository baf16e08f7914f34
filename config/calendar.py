"""The consultation calendar: four phases with inclusive start and end dates, and the
announcements each phase sends (its opening, reminders before its end, its closing)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from config.calendar_file import (
    PHASE_KEYS,
    check_announcement,
    check_keys,
    phase_date,
    phase_entries,
    phase_text,
    refuse,
)
from config.catalogue import Catalogue, default_catalogue
from config.toml_file import read_toml

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

    def __init__(self, phases: list[Phase], zone: ZoneInfo, source: str = "Le calendrier") -> None:
        ids = [phase.id for phase in phases]
        if ids != list(PHASE_IDS):
            raise refuse(
                source,
                f"les phases doivent être {', '.join(PHASE_IDS)}, dans cet ordre "
                f"(trouvé : {', '.join(map(str, ids)) or 'aucune'})",
            )
        for phase in phases:
            if phase.end < phase.start:
                raise refuse(
                    f"{source}, phase « {phase.id} »",
                    f"la fin ({french_date(phase.end)}) précède le début "
                    f"({french_date(phase.start)})",
                )
        for before, after in itertools.pairwise(phases):
            if after.start <= before.end:
                raise refuse(
                    f"{source}, phase « {after.id} »",
                    f"elle commence le {french_date(after.start)}, avant la fin de la phase "
                    f"« {before.id} » ({french_date(before.end)}) : les phases se suivent "
                    "sans se chevaucher",
                )
        self.phases = tuple(phases)
        self.zone = zone

    @classmethod
    def load(
        cls, zone: ZoneInfo, path: Path | None = None, catalogue: Catalogue | None = None
    ) -> Calendar:
        """The calendar of ``path`` (``RECUEIL_CALENDAR_FILE``), else the shipped one, every
        mistake refused in French (``config/calendar_file.py``), the announcements' texts
        checked against ``catalogue`` (by default the shipped texts)."""
        data = read_toml(path or DEFAULT_CALENDAR, "RECUEIL_CALENDAR_FILE" if path else None)
        source = (
            f"Calendrier « {path} » (RECUEIL_CALENDAR_FILE)" if path else "config/calendar.toml"
        )
        phases = []
        for number, entry in enumerate(phase_entries(data, source), 1):
            where = (
                f"{source}, phase « {entry['id']} »"
                if "id" in entry
                else f"{source}, phase nº {number}"
            )
            check_keys(entry, PHASE_KEYS, where)
            phases.append(
                Phase(
                    phase_text(entry, "id", where),
                    phase_text(entry, "label", where),
                    phase_date(entry, "start", where),
                    phase_date(entry, "end", where),
                    tuple(entry.get("announcement", ())),
                )
            )
        calendar = cls(phases, zone, source)
        texts = catalogue or default_catalogue()
        for phase in calendar.phases:
            entries = phase.announcements or _default_entries(phase.id)
            for number, entry in enumerate(entries, 1):
                kind = entry.get("kind") if isinstance(entry, dict) else None
                named = f" ({kind})" if isinstance(kind, str) else ""
                where = f"{source}, phase « {phase.id} », annonce nº {number}{named}"
                check_announcement(entry, phase.id, KINDS, where, texts)
        return calendar

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
