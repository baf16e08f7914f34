"""Measure the shipped models on text nobody here wrote: the service pages of beta.gouv.fr.

Usage:
    python benchmarks/independent_text.py --source PATH [--json]

PATH is a checkout of https://github.com/betagouv/beta.gouv.fr (or its
``content/_startups`` folder). Each page describes one digital public service: a one-line
``mission`` and, in its body, the problem it answers, written by the service's team and
its sponsors (many are collectivités, and the Incubateur des Territoires' own services are
there). The pages are under CC BY-NC-SA 4.0: they are read from the checkout and never
copied into this repository, and nothing here was trained or tuned on them.

- **Thématique.** The pages' own ``thematiques`` tags, written by their authors, are mapped
  to ours by ``nlp/data/independent/betagouv_thematiques.toml`` (tag by tag, fixed before
  any prediction was looked at). A page's gold is the set of its mapped tags; pages without
  a mapped tag are left out. The first choice is right when it is in that set (accuracy);
  top-3 when one of the three first is. Measured on the mission alone (as short as a
  title) and on the mission with the first paragraph of the problem (a description).
- **Same need.** Every mission is stored in the bot's same-need index; each page's problem
  paragraph is searched as a new need would be, at the shipped threshold (no usage known:
  the words alone decide). Precision: shown matches that are the page's own mission.
  Recall: pages whose own mission is shown. Two pages of one service (same title) count
  as the same need.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

# Run as a script, this folder would shadow the nlp package (see benchmarks/nlp.py).
_HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _HERE]

from nlp.independent import (  # noqa: E402
    description,
    gold_of,
    load_mapping,
    read_pages,
    same_need_figures,
    thematique_figures,
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True, help="checkout of beta.gouv.fr")
    parser.add_argument("--json", action="store_true", help="figures as JSON")
    args = parser.parse_args(argv)

    from nlp.loading import load_similarity
    from nlp.spacy_classifier import MODEL_DIR, SpacyClassifier

    pages = read_pages(args.source)
    if not pages:
        print(f"No beta.gouv.fr page under {args.source}", file=sys.stderr)
        return 2
    mapping = load_mapping()
    classifier = SpacyClassifier.load(MODEL_DIR)
    figures: dict[str, object] = {"pages": len(pages)}
    tagged = [(page, gold) for page in pages if (gold := gold_of(page, mapping))]
    figures["tagged"] = len(tagged)
    figures["several_gold"] = sum(len(gold) > 1 for _, gold in tagged)
    figures["tags_left_out"] = Counter(
        tag for page in pages for tag in page.tags if tag.casefold() not in mapping
    ).most_common(8)
    for subset, rows in (
        ("all", tagged),
        ("collectivites", [(p, g) for p, g in tagged if p.for_collectivites]),
    ):
        golds = [gold for _, gold in rows]
        figures[f"thematique_mission_{subset}"] = thematique_figures(
            [page.mission for page, _ in rows], golds, classifier
        )
        figures[f"thematique_description_{subset}"] = thematique_figures(
            [description(page) for page, _ in rows], golds, classifier
        )
    similarity = load_similarity()
    figures["same_need_all"] = same_need_figures(pages, similarity)
    figures["same_need_collectivites"] = same_need_figures(
        [page for page in pages if page.for_collectivites], similarity
    )
    if args.json:
        print(json.dumps(figures, ensure_ascii=False, indent=2))
    else:
        for key, value in figures.items():
            print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
