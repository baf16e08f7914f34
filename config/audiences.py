"""The names of the audiences an announcement can go to (the calendar, ``!annoncer``).

``storage/campaigns.py`` turns each name into the agents it reaches (docs/campagnes.md);
the names live here so the calendar is checked against them when it is loaded.
"""

from __future__ import annotations

AUDIENCES = (
    "agents",
    "votants",
    "contributeurs",
    "sans_soutien",
    "participants_vote",
    "volontaires",
    "suiveurs",
)
PER_LAUREATE = ("laureat", "volontaires", "suiveurs")
"""Audiences of one laureate, named with its reference: ``suiveurs:P-012``."""


def is_audience(audience: str) -> bool:
    name, colon, reference = audience.partition(":")
    if colon:
        return name in PER_LAUREATE and reference.strip() != ""
    return name in AUDIENCES
