"""The stems a trained classifier has seen, for its familiarity guard."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import spacy

from nlp.features import content_words, stem, words


def known_stems(texts: Iterable[str]) -> set[str]:
    tokenizer = spacy.blank("fr").tokenizer
    known: set[str] = set()
    for text in texts:
        known.update(stem(w) for w in content_words(words(tokenizer(text))))
    return known


def familiarity(tokens: Sequence[str], known: frozenset[str] | set[str]) -> float:
    """The share of content words whose stem was seen in training (0 when there are none)."""
    content = [w for w in content_words(tokens) if any(ch.isalpha() for ch in w)]
    if not content:
        return 0.0
    return sum(stem(w) in known for w in content) / len(content)
