"""The thématiques, from ``config/taxonomy.toml`` (or ``RECUEIL_TAXONOMY_FILE``)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from config.toml_file import read_toml

DEFAULT_TAXONOMY = Path(__file__).with_name("taxonomy.toml")


@dataclass(frozen=True, slots=True)
class Thematique:
    id: str
    label: str
    description: str
    examples: tuple[str, ...]


class Taxonomy:
    """An ordered set of thématiques."""

    def __init__(self, items: list[Thematique]) -> None:
        if not items:
            raise ValueError("the taxonomy is empty")
        ids = [item.id for item in items]
        if len(set(ids)) != len(ids):
            raise ValueError("duplicate thématique ids in the taxonomy")
        self.items = tuple(items)
        self._by_id = {item.id: item for item in items}

    @classmethod
    def load(cls, path: Path | None = None) -> Taxonomy:
        data = read_toml(path or DEFAULT_TAXONOMY, "RECUEIL_TAXONOMY_FILE" if path else None)
        return cls(
            [
                Thematique(
                    id=entry["id"],
                    label=entry["label"],
                    description=entry.get("description", ""),
                    examples=tuple(entry.get("examples", ())),
                )
                for entry in data["thematique"]
            ]
        )

    def __contains__(self, thematique_id: object) -> bool:
        return thematique_id in self._by_id

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def get(self, thematique_id: str) -> Thematique:
        return self._by_id[thematique_id]

    def label(self, thematique_id: str) -> str:
        item = self._by_id.get(thematique_id)
        return item.label if item else thematique_id

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(item.id for item in self.items)


@cache
def default_taxonomy() -> Taxonomy:
    return Taxonomy.load()
