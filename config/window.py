"""When scheduled pushes may be sent: weekdays and hours in the consultation's time zone.

Replies to an agent are never held back; only pushes (announcements, reminders, notices)
wait for the window to open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class SendingWindow:
    days: frozenset[int]  # ISO weekdays, 1 = Monday
    start: time
    end: time
    zone: ZoneInfo

    @classmethod
    def parse(cls, days: str, hours: str, zone: ZoneInfo) -> SendingWindow:
        """``days`` as ``1-5`` or ``1,2,3`` (ISO weekdays), ``hours`` as ``09:00-18:00``."""
        chosen: set[int] = set()
        for part in days.replace(" ", "").split(","):
            first, _, last = part.partition("-")
            if not (first.isdigit() and (last or first).isdigit()):
                raise ValueError(f"jours attendus comme 1-5 ou 1,3,5 : « {days} »")
            low, high = int(first), int(last or first)
            if not 1 <= low <= high <= 7:
                raise ValueError(f"jours attendus entre 1 (lundi) et 7 (dimanche) : « {days} »")
            chosen.update(range(low, high + 1))
        opening, _, closing = hours.replace(" ", "").partition("-")
        try:
            start, end = time.fromisoformat(opening), time.fromisoformat(closing)
        except ValueError:
            raise ValueError(f"heures attendues comme 09:00-18:00 : « {hours} »") from None
        if end <= start:
            raise ValueError(f"l’heure de fin doit suivre l’heure de début : « {hours} »")
        return cls(frozenset(chosen), start, end, zone)

    def is_open(self, now: datetime) -> bool:
        local = now.astimezone(self.zone)
        return local.isoweekday() in self.days and self.start <= local.time() < self.end


ALWAYS = SendingWindow(frozenset(range(1, 8)), time(0, 0), time.max, ZoneInfo("UTC"))
"""No restriction (tests and tools that push at once)."""
