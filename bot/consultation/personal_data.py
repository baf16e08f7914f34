"""The agent's personal data as ``mes données`` gives it: French names, values as stored.

:func:`storage.privacy.agent_data` keys its sections by table name and its rows by column
name. The agent reads them under the labels of ``config/messages.toml``
(``privacy.export.sections``, ``privacy.export.fields.<table>``, and
``privacy.export.answers`` for the keys of a contribution's other answers). Values are never
touched: dates stay in ISO 8601, choices keep their stored ids, so the export stays complete
and exact.

A name without a label keeps its stored name and is logged: the agent still gets all of
their data. ``tests/test_privacy.py`` fails on a column of the exported tables without a
label, so this fallback is for a stale custom messages file, not for a new migration.
"""

from __future__ import annotations

import logging
from typing import Any

from config.catalogue import Catalogue

log = logging.getLogger(__name__)

SECTIONS = "privacy.export.sections."
FIELDS = "privacy.export.fields.{section}."
ANSWERS = "privacy.export.answers."
"""Where the labels are in the catalogue: each prefix followed by the stored name."""


def in_french(catalogue: Catalogue, data: dict[str, Any]) -> dict[str, Any]:
    """``data`` as :func:`storage.privacy.agent_data` returns it, with French names."""
    shown: dict[str, Any] = {}
    for section, value in data.items():
        name = _label(catalogue, SECTIONS, section)
        if isinstance(value, list):
            shown[name] = [_row(catalogue, section, row) for row in value]
        elif isinstance(value, dict):
            shown[name] = _row(catalogue, section, value)
        else:
            shown[name] = value
    return shown


def _row(catalogue: Catalogue, section: str, row: dict[str, Any]) -> dict[str, Any]:
    if section == "contribution" and isinstance(row.get("answers"), dict):
        row = {**row, "answers": _renamed(catalogue, ANSWERS, row["answers"])}
    return _renamed(catalogue, FIELDS.format(section=section), row)


def _renamed(catalogue: Catalogue, prefix: str, values: dict[str, Any]) -> dict[str, Any]:
    """``values`` under their labels; a name without one, or whose label another name already
    took, keeps its stored name: nothing is dropped."""
    shown: dict[str, Any] = {}
    for name, value in values.items():
        label = _label(catalogue, prefix, name)
        shown[label if label not in shown else name] = value
    return shown


def _label(catalogue: Catalogue, prefix: str, stored: str) -> str:
    if catalogue.has(prefix + stored):
        return catalogue.t(prefix + stored)
    log.warning("no French label %s%s in the messages: the export shows %r", prefix, stored, stored)
    return stored
