"""Where the data and the shipped model live, and the seed: shared by inference and training.

Inference (the classifier, the same-need score, loading) and training (``nlp.training``,
``nlp.experiments``) both read these; neither imports the other for them.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).parent
MODEL_DIR = PACKAGE_DIR / "model"
"""The shipped model: the thématique textcat, ``similarity.json`` and ``needs/``."""

DATA_DIR = PACKAGE_DIR / "data"
TRAIN_FILE = DATA_DIR / "train.jsonl"
HELDOUT_FILE = DATA_DIR / "heldout.jsonl"
PAIRS_FILE = DATA_DIR / "pairs.jsonl"
PAIRS_TEST_FILE = DATA_DIR / "pairs_test.jsonl"
DEV_PAIRS = DATA_DIR / "dev_pairs.jsonl"
"""The dev pair set built by ``python -m nlp.dev_pairs``."""

NEEDS_DATA = DATA_DIR / "needs"
CATALOGUE_FILE = NEEDS_DATA / "catalogue.jsonl"
ANNOTATIONS_FILE = NEEDS_DATA / "train_needs.jsonl"
"""Every line of ``train.jsonl`` with its need type: ``{"line": N, "text", "need"}``."""
EXAMPLES_FILE = NEEDS_DATA / "examples.jsonl"
"""More examples per type, written for the catalogue: ``{"text", "need", ...}``."""

SEED = 20210
"""Every random choice of training derives from this seed."""
