"""Build ``nlp/data/dev_pairs.jsonl``: the dev pair set that chose the similarity settings.

Positives are hand-written rewordings of 42 ``train.jsonl`` lines, three per thématique, as
another collectivité would describe the same need: ``dev_paraphrases.tsv`` keeps some of the
original's key words ("close"), ``dev_paraphrases_far.tsv`` avoids them ("far"). Each file has
lines of train line number, tab, rewording.

Negatives come from ``train.jsonl`` alone, whose lines are distinct situations: for each
positive, the rewording against the other line of the same thématique that shares the most
vocabulary with the original (a hard negative), against a random line of the same thématique,
and one pair across thématiques per two positives.

Usage: python -m nlp.dev_pairs
"""

from __future__ import annotations

import json
import random

import spacy

from nlp.paths import DATA_DIR, DEV_PAIRS, SEED, TRAIN_FILE
from nlp.similarity import Analyzer, cosine

PARAPHRASES = {
    "close": DATA_DIR / "dev_paraphrases.tsv",
    "far": DATA_DIR / "dev_paraphrases_far.tsv",
}

AMBIGUOUS_HARD = frozenset({65, 77, 105, 136, 224, 302, 468, 652, 792, 1000, 1066})
"""Anchors whose closest same-thématique line turned out, on reading, to be the same need (or
the service answering it): that hard negative is left out rather than mislabelled."""


TRAIN_LINES = 1514
"""The lines of ``train.jsonl`` when the pairs were built (later lines were added after)."""


def main() -> None:
    lines_read = TRAIN_FILE.open(encoding="utf-8").readlines()[:TRAIN_LINES]
    rows = [json.loads(line) for line in lines_read]
    # The usages (what each author would say the service is for) were annotated afterwards,
    # text by text (docs/nlp.md): a rebuild keeps them.
    usages = (
        {
            (pair["a"], pair["b"]): (pair.get("usage_a"), pair.get("usage_b"))
            for pair in map(json.loads, DEV_PAIRS.open(encoding="utf-8"))
        }
        if DEV_PAIRS.exists()
        else {}
    )
    analyzer = Analyzer.fit(spacy.blank("fr"), [row["text"] for row in rows], prefix=99)
    sparse = [analyzer.vector(row["text"]) for row in rows]
    rng = random.Random(SEED)
    pairs = []
    lines = [
        (wording, line)
        for wording, path in PARAPHRASES.items()
        for line in path.read_text(encoding="utf-8").splitlines()
    ]
    for number, (wording, line) in enumerate(lines):
        index_text, reworded = line.split("\t")
        index = int(index_text)
        row = rows[index]
        same_label = [i for i, r in enumerate(rows) if r["label"] == row["label"] and i != index]
        hard = max(same_label, key=lambda i: cosine(sparse[index], sparse[i]))
        easy = rng.choice([i for i in same_label if i != hard])
        base = {"kind": row["kind"], "thematique": row["label"], "wording": wording}
        pairs.append({"a": row["text"], "b": reworded, "same": True, **base})
        if index not in AMBIGUOUS_HARD:
            pairs.append({"a": rows[hard]["text"], "b": reworded, "same": False, **base})
        pairs.append({"a": rows[easy]["text"], "b": reworded, "same": False, **base})
        if number % 2 == 0:
            other = rng.choice([i for i, r in enumerate(rows) if r["label"] != row["label"]])
            pairs.append({"a": rows[other]["text"], "b": reworded, "same": False, **base})
    with DEV_PAIRS.open("w", encoding="utf-8") as handle:
        for pair in pairs:
            usage_a, usage_b = usages.get((pair["a"], pair["b"]), (None, None))
            if usage_a and usage_b:
                pair |= {"usage_a": usage_a, "usage_b": usage_b}
            handle.write(json.dumps(pair, ensure_ascii=False) + "\n")
    print(f"{len(pairs)} pairs written to {DEV_PAIRS}")


if __name__ == "__main__":
    main()
