"""The stems a trained classifier has seen, for its familiarity guard."""

from __future__ import annotations

from collections.abc import Iterable

import spacy

from nlp.features import content_words, stem, words


def known_stems(texts: Iterable[str]) -> set[str]:
    tokenizer = spacy.blank("fr").tokenizer
    known: set[str] = set()
    for text in texts:
        known.update(stem(w) for w in content_words(words(tokenizer(text))))
    return known
