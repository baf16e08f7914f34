"""The independent set: beta.gouv.fr's service pages, read from a checkout of its repository.

Text nobody here wrote or tuned on (issue 13): each page describes one digital public
service, a one-line ``mission`` and the problem it answers, written by the service's team
and its sponsors. The pages are under CC BY-NC-SA 4.0: they are read where they are and
never copied into this repository. ``benchmarks/independent_text.py`` measures the shipped
models on them; ``python -m nlp.encoder_study --independent`` compares the encoder there.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from nlp.paths import DATA_DIR

if TYPE_CHECKING:
    from nlp.classifier import Classifier
    from nlp.similarity import Similarity

MAPPING_FILE = DATA_DIR / "independent" / "betagouv_thematiques.toml"
PROBLEM_HEADING = re.compile(r"probl[eè]m|constat|contexte|enjeu", re.IGNORECASE)
MARKDOWN_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
MARKDOWN_MARKS = re.compile(r"[*_`>#]+")
PARAGRAPH_CHARS = 600


@dataclass(frozen=True, slots=True)
class Page:
    name: str
    title: str
    mission: str
    problem: str
    tags: tuple[str, ...]
    for_collectivites: bool


def plain(markdown: str) -> str:
    text = MARKDOWN_LINK.sub(r"\1", markdown)
    text = MARKDOWN_MARKS.sub("", text).replace("\\-", "-")
    return " ".join(text.split())


def first_paragraph(body: str) -> str:
    """The first paragraph under a heading about the problem, else the body's first one;
    list items are joined to it; cut at a sentence end near ``PARAGRAPH_CHARS``."""
    sections = re.split(r"^#{1,6}\s*(.*)$", body, flags=re.MULTILINE)
    chosen = sections[0]
    for heading, content in zip(sections[1::2], sections[2::2], strict=False):
        if PROBLEM_HEADING.search(heading):
            chosen = content
            break
    else:
        chosen = next((part for part in sections[::2] if plain(part)), "")
    blocks = [plain(block) for block in re.split(r"\n\s*\n", chosen)]
    text = ""
    for block in blocks:
        if block:
            text = f"{text} {block}".strip()
        if len(text) >= 80:
            break
    if len(text) > PARAGRAPH_CHARS:
        cut = text.rfind(". ", 0, PARAGRAPH_CHARS)
        text = text[: cut + 1] if cut > 80 else text[:PARAGRAPH_CHARS]
    return text


def read_pages(source: Path) -> list[Page]:
    import yaml  # a development dependency: only the measures read these pages

    folder = source / "content" / "_startups" if (source / "content").is_dir() else source
    pages = []
    for path in sorted(folder.glob("*.md")):
        raw = path.read_text(encoding="utf-8")
        parts = raw.split("---", 2)
        if not raw.startswith("---") or len(parts) < 3:
            continue
        try:
            front = yaml.safe_load(parts[1])
        except yaml.YAMLError:
            continue
        if not isinstance(front, dict) or not front.get("mission"):
            continue
        users = front.get("usertypes") or []
        pages.append(
            Page(
                name=path.stem,
                title=str(front.get("title") or path.stem).strip(),
                mission=plain(str(front["mission"])),
                problem=first_paragraph(parts[2]),
                tags=tuple(str(tag).strip() for tag in front.get("thematiques") or []),
                for_collectivites="collectivite-territoriale" in users
                or front.get("incubator") == "anct",
            )
        )
    return pages


def description(page: Page) -> str:
    """The mission with the problem's first paragraph: what an agent's description reads."""
    mission = page.mission.rstrip(" .")
    return f"{mission}. {page.problem}" if page.problem else mission


def load_mapping(path: Path = MAPPING_FILE) -> dict[str, list[str]]:
    with path.open("rb") as file:
        return {tag.casefold(): ids for tag, ids in tomllib.load(file)["tags"].items()}


def gold_of(page: Page, mapping: dict[str, list[str]]) -> set[str]:
    return {label for tag in page.tags for label in mapping.get(tag.casefold(), [])}


def thematique_figures(
    texts: Sequence[str], golds: Sequence[set[str]], classifier: Classifier
) -> dict[str, float]:
    ranked = [classifier.predict(text).top(3) for text in texts]
    first = sum(r[0][0] in gold for r, gold in zip(ranked, golds, strict=True))
    three = sum(any(label in gold for label, _ in r) for r, gold in zip(ranked, golds, strict=True))
    n = len(texts)
    return {"texts": n, "accuracy": first / n if n else 0.0, "top3": three / n if n else 0.0}


def same_need_figures(pages: Sequence[Page], similarity: Similarity) -> dict[str, float]:
    from nlp.index import SimilarityIndex

    index: SimilarityIndex[int] = SimilarityIndex(similarity)
    index.add_many((i, "besoin", page.mission) for i, page in enumerate(pages))
    by_title: dict[str, set[int]] = {}
    for i, page in enumerate(pages):
        by_title.setdefault(page.title.casefold(), set()).add(i)
    queries = [page for page in pages if page.problem]
    shown = right = found = first = 0
    for page in queries:
        same = by_title[page.title.casefold()]
        results = index.search(page.problem, "besoin", limit=3)
        shown += len(results)
        right += sum(j in same for j, _ in results)
        found += any(j in same for j, _ in results)
        best = index.search(page.problem, "besoin", limit=1, min_score=0.0)
        first += bool(best) and best[0][0] in same
    n = len(queries)
    return {
        "queries": n,
        "stored": len(pages),
        "shown": shown,
        "precision": right / shown if shown else float("nan"),
        "recall": found / n if n else 0.0,
        "first_is_own": first / n if n else 0.0,
    }
