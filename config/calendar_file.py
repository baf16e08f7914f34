"""Checking ``config/calendar.toml`` (or ``RECUEIL_CALENDAR_FILE``) as it is loaded.

The calendar is data an administrator edits: every mistake (dates out of order, a date
written as text, an announcement's misspelt kind, unknown audience or missing message) stops
every command at once with one French ``ConfigError`` naming the file, the phase, the
announcement and what is wrong, rather than a traceback or a scheduler failing on each tick.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from config.audiences import AUDIENCES, PER_LAUREATE, is_audience
from config.catalogue import Catalogue
from config.toml_file import ConfigError
from config.typography import french

PHASE_KEYS = ("id", "label", "start", "end", "announcement")
ANNOUNCEMENT_KEYS = ("kind", "days_before_end", "audience", "message")
ANNOUNCEMENT_FIELDS = (
    "label",
    "start",
    "end",
    "days",
    "next_label",
    "next_start",
    "results",
    "decision",
)
"""What an announcement's text may name (``bot.consultation.campaigns.announcement_messages``)."""


def did_you_mean(word: str, choices: Iterable[str], cutoff: float = 0.6) -> str:
    """`` ; vouliez-vous dire « admins » ?`` when a choice is close to ``word``, else ``""``."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=cutoff)
    return f" ; vouliez-vous dire « {close[0]} » ?" if close else ""


def refuse(where: str, problem: str) -> ConfigError:
    end = "" if problem.endswith("?") else "."
    return ConfigError(french(f"{where} : {problem}{end}"))


def check_keys(entry: dict[str, Any], allowed: tuple[str, ...], where: str) -> None:
    for key in entry:
        if key not in allowed:
            raise refuse(where, f"clé « {key} » inconnue{did_you_mean(key, allowed)}")


def phase_entries(data: dict[str, Any], source: str) -> list[dict[str, Any]]:
    entries = data.get("phase")
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise refuse(source, "aucune phase ; chacune s’écrit sous un titre [[phase]]")
    return entries


def phase_date(entry: dict[str, Any], key: str, where: str) -> date:
    value = entry.get(key)
    if value is None:
        raise refuse(where, f"clé « {key} » manquante (une date, par exemple {key} = 2027-02-15)")
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        guess = _read_date(value)
        example = guess.isoformat() if guess else "2027-02-15"
        raise refuse(
            where,
            f"{key} = « {value} » est un texte ; écrivez la date sans guillemets, "
            f"sous la forme année-mois-jour : {key} = {example}",
        )
    raise refuse(where, f"{key} doit être une date sans heure, par exemple {key} = 2027-02-15")


def phase_text(entry: dict[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise refuse(where, f"clé « {key} » manquante ou vide (un texte entre guillemets)")
    return value


def check_announcement(
    entry: Any, phase_id: str, kinds: tuple[str, ...], where: str, catalogue: Catalogue
) -> None:
    """``entry`` as written in ``[[phase.announcement]]``; its defaults are checked too."""
    if not isinstance(entry, dict):
        raise refuse(where, "une annonce s’écrit sous un titre [[phase.announcement]]")
    check_keys(entry, ANNOUNCEMENT_KEYS, where)
    kind = entry.get("kind")
    if kind not in kinds:
        hint = did_you_mean(kind, kinds) if isinstance(kind, str) else ""
        listed = ", ".join(f"« {k} »" for k in kinds)
        raise refuse(where, f"kind = « {kind} » inconnu (attendu : {listed}){hint}")
    days = entry.get("days_before_end", 1)
    if isinstance(days, bool) or not isinstance(days, int) or days < 0:
        raise refuse(where, f"days_before_end = « {days} » : un nombre entier de jours est attendu")
    audience = entry.get("audience")
    if audience is not None and (not isinstance(audience, str) or not is_audience(audience)):
        name = str(audience).partition(":")[0]
        choices = (*AUDIENCES, *(f"{n}:P-012" for n in PER_LAUREATE))
        hint = did_you_mean(name, AUDIENCES)
        raise refuse(
            where,
            f"public « {audience} » inconnu (publics : {', '.join(choices)}){hint}",
        )
    message = entry.get("message") or f"annonces.{phase_id}.{kind}"
    if not isinstance(message, str) or not catalogue.has(message):
        keys = [k for k in catalogue.all_keys() if k.startswith("annonces.")]
        raise refuse(
            where,
            f"message « {message} » absent des textes (messages.toml)"
            f"{did_you_mean(str(message), keys, cutoff=0.85)}",
        )
    unknown = sorted(catalogue.placeholders(message) - set(ANNOUNCEMENT_FIELDS))
    if unknown:
        named = ", ".join(f"{{{name}}}" for name in unknown)
        allowed = ", ".join(f"{{{name}}}" for name in ANNOUNCEMENT_FIELDS)
        raise refuse(
            where, f"le texte « {message} » contient {named}, inconnu d’une annonce ({allowed})"
        )


def _read_date(text: str) -> date | None:
    """``15/02/2027``, ``15-02-2027`` or ``2027-02-15`` written as text."""
    found = re.fullmatch(r"\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\s*", text)
    try:
        if found:
            return date(int(found.group(3)), int(found.group(2)), int(found.group(1)))
        return date.fromisoformat(text.strip())
    except ValueError:
        return None
