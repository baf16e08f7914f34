"""Labelled texts (``{"text", "label", ...}`` lines), read for training and for evaluation."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from config.taxonomy import Taxonomy


@dataclass(frozen=True, slots=True)
class Labelled:
    text: str
    label: str


def read_labelled(path: Path, taxonomy: Taxonomy | None = None) -> list[Labelled]:
    """Labelled lines ``{"text", "label", ...}``; labels must exist in the taxonomy if given."""
    rows = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            data = json.loads(line)
            if taxonomy is not None and data["label"] not in taxonomy:
                raise ValueError(f"{path}:{number}: unknown thématique {data['label']!r}")
            rows.append(Labelled(data["text"], data["label"]))
    return rows
