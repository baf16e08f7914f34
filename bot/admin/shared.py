"""What several administrator commands list: the needs shared by several collectivités."""

from __future__ import annotations

from typing import Any

SHARED_SHOWN = 10
"""Lines listed by ``!recurrences`` and ``!candidats``; the exports have them all."""


def shared_needs(clusters: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [c for c in clusters if c["nombre_collectivites"] > 1]
