"""The consultation calendar: four phases with inclusive start and end dates."""

from __future__ import annotations

import itertools
import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

DEFAULT_CALENDAR = Path(__file__).with_name("calendar.toml")
PHASE_IDS = ("collecte", "vote", "referents", "deploiement")


@dataclass(frozen=True, slots=True)
class Phase:
    id: str
    label: str
    start: date
    end: date

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
        return cls([Phase(p["id"], p["label"], p["start"], p["end"]) for p in data["phase"]], zone)

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


def french_date(day: date) -> str:
    """``1er février 2027``, ``15 mars 2027``."""
    number = "1er" if day.day == 1 else str(day.day)
    return f"{number} {MONTHS[day.month - 1]} {day.year}"
