"""Valide les fichiers d'entraînement JSONL du classifieur de thématiques.

Usage :
    python nlp/data/check_data.py nlp/data/train.jsonl [autre.jsonl ...]

Pour chaque ligne : JSON valide, champs ``text``, ``label``, ``kind``,
``register`` présents et valides (les labels sont lus dans
``config/taxonomy.toml``). Sur l'ensemble des fichiers donnés : pas de
doublon exact ni de quasi-doublon (texte normalisé). Affiche les effectifs
par label, par kind et par register. Code de sortie 1 en cas d'erreur.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tomllib
import unicodedata
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TAXONOMY = ROOT / "config" / "taxonomy.toml"
KINDS = {"besoin", "service"}
REGISTERS = {"formal", "chat"}
FIELDS = {"text", "label", "kind", "register"}
NEAR_DUP_RATIO = 90.0  # seuil rapidfuzz (0-100) sur le texte normalisé
MIN_PER_LABEL = 90


def load_labels(path: Path = TAXONOMY) -> list[str]:
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    return [t["id"] for t in data["thematique"]]


def normalize(text: str) -> str:
    """Minuscules, sans accents ni ponctuation, espaces réduits."""
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"[^a-z0-9]+", " ", text)
    return text.strip()


def near_duplicates(norms: list[str], threshold: float) -> list[tuple[int, int, float]]:
    """Paires (i, j, score) dont la similarité dépasse le seuil."""
    pairs: list[tuple[int, int, float]] = []
    try:
        import numpy as np
        from rapidfuzz import fuzz, process
    except ImportError:  # repli lent, sans rapidfuzz
        from difflib import SequenceMatcher

        for i in range(len(norms)):
            for j in range(i + 1, len(norms)):
                score = 100 * SequenceMatcher(None, norms[i], norms[j]).ratio()
                if score >= threshold:
                    pairs.append((i, j, score))
        return pairs
    matrix = process.cdist(norms, norms, scorer=fuzz.ratio, score_cutoff=threshold, workers=-1)
    for i, j in zip(*np.nonzero(matrix), strict=True):
        if i < j:
            pairs.append((int(i), int(j), float(matrix[i, j])))
    return pairs


def check(paths: list[Path], threshold: float = NEAR_DUP_RATIO) -> int:
    labels = load_labels()
    known = set(labels)
    errors: list[str] = []
    rows: list[tuple[str, int, dict[str, str]]] = []
    for path in paths:
        with path.open(encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                where = f"{path.name}:{lineno}"
                if not line.strip():
                    errors.append(f"{where}: ligne vide")
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    errors.append(f"{where}: JSON invalide ({exc})")
                    continue
                if not isinstance(obj, dict) or set(obj) != FIELDS:
                    errors.append(f"{where}: champs attendus {sorted(FIELDS)}")
                    continue
                if not isinstance(obj["text"], str) or not obj["text"].strip():
                    errors.append(f"{where}: texte vide")
                    continue
                if obj["label"] not in known:
                    errors.append(f"{where}: label inconnu {obj['label']!r}")
                if obj["kind"] not in KINDS:
                    errors.append(f"{where}: kind invalide {obj['kind']!r}")
                if obj["register"] not in REGISTERS:
                    errors.append(f"{where}: register invalide {obj['register']!r}")
                rows.append((where, lineno, obj))

    norms = [normalize(obj["text"]) for _, _, obj in rows]
    seen: dict[str, str] = {}
    for (where, _, _), norm in zip(rows, norms, strict=True):
        if norm in seen:
            errors.append(f"{where}: doublon de {seen[norm]}")
        else:
            seen[norm] = where
    for i, j, score in near_duplicates(norms, threshold):
        if norms[i] != norms[j]:
            errors.append(f"{rows[j][0]}: quasi-doublon de {rows[i][0]} ({score:.0f})")

    by_label = Counter(obj["label"] for _, _, obj in rows)
    by_kind = Counter(obj["kind"] for _, _, obj in rows)
    by_register = Counter(obj["register"] for _, _, obj in rows)
    by_label_kind = Counter((obj["label"], obj["kind"]) for _, _, obj in rows)
    by_label_reg = Counter((obj["label"], obj["register"]) for _, _, obj in rows)

    print(f"lignes : {len(rows)}")
    print(f"{'label':28} {'total':>5} {'besoin':>6} {'service':>7} {'formal':>6} {'chat':>5}")
    for label in labels:
        print(
            f"{label:28} {by_label[label]:5d} {by_label_kind[label, 'besoin']:6d} "
            f"{by_label_kind[label, 'service']:7d} {by_label_reg[label, 'formal']:6d} "
            f"{by_label_reg[label, 'chat']:5d}"
        )
    print("kind     : " + ", ".join(f"{k}={by_kind[k]}" for k in sorted(KINDS)))
    print("register : " + ", ".join(f"{r}={by_register[r]}" for r in sorted(REGISTERS)))
    short = [lab for lab in labels if by_label[lab] < MIN_PER_LABEL]
    if short:
        print(f"avertissement : moins de {MIN_PER_LABEL} exemples pour {', '.join(short)}")

    for err in errors:
        print("ERREUR " + err, file=sys.stderr)
    print(f"erreurs : {len(errors)}")
    return 1 if errors else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--threshold", type=float, default=NEAR_DUP_RATIO)
    args = parser.parse_args(argv)
    return check(args.paths, args.threshold)


if __name__ == "__main__":
    sys.exit(main())
