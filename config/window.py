"""When scheduled pushes may be sent: weekdays and hours in the consultation's time zone.

Replies to an agent are never held back; only pushes (announcements, reminders, notices)
wait for the window to open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from config.typography import NBSP

WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")


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

    def french_days(self) -> str:
        """``du lundi au vendredi``, ``lundi, mercredi et vendredi``, ``tous les jours``."""
        if len(self.days) == 7:
            return "tous les jours"
        runs: list[list[int]] = []
        for day in sorted(self.days):
            if runs and runs[-1][-1] == day - 1:
                runs[-1].append(day)
            else:
                runs.append([day])
        parts: list[str] = []
        for run in runs:
            if len(run) >= 3:
                parts.append(f"du {WEEKDAYS[run[0] - 1]} au {WEEKDAYS[run[-1] - 1]}")
            else:
                parts.extend(WEEKDAYS[day - 1] for day in run)
        return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " et " + parts[-1]

    def french_hours(self) -> str:
        """``de 9 h à 18 h``, ``de 8 h 30 à 12 h``."""
        return f"de {_french_time(self.start)} à {_french_time(self.end)}"


def _french_time(moment: time) -> str:
    hour = f"{moment.hour}{NBSP}h"
    return f"{hour}{NBSP}{moment.minute:02d}" if moment.minute else hour


ALWAYS = SendingWindow(frozenset(range(1, 8)), time(0, 0), time.max, ZoneInfo("UTC"))
"""No restriction (tests and tools that push at once)."""
