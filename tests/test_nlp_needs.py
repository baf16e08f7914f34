"""The need-type catalogue, its data, and the shipped model that reads it."""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from pathlib import Path

import pytest

from nlp.loading import load_similarity
from nlp.needs import NO_TYPE, NeedModel, agreement, read_catalogue
from nlp.paths import (
    ANNOTATIONS_FILE,
    DEV_PAIRS,
    EXAMPLES_FILE,
    HELDOUT_FILE,
    PAIRS_FILE,
    PAIRS_TEST_FILE,
    TRAIN_FILE,
)
from nlp.training.needs import training_rows

MIN_ANNOTATED = 3
MIN_EXAMPLES = 10


def lines(path: Path) -> list[dict[str, object]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def normalized(text: object) -> str:
    folded = unicodedata.normalize("NFKD", str(text).casefold())
    return re.sub(r"[^a-z0-9]+", " ", "".join(c for c in folded if c.isascii())).strip()


@pytest.fixture(scope="module")
def needs() -> NeedModel:
    model = load_similarity().needs
    assert model is not None, "the shipped model has no need types: run `recueil nlp train`"
    return model


def test_every_training_line_has_one_need_type_of_the_catalogue() -> None:
    catalogue = read_catalogue()
    ids = [item.id for item in catalogue]
    assert len(ids) == len(set(ids)) and NO_TYPE not in ids
    train = lines(TRAIN_FILE)
    annotated = lines(ANNOTATIONS_FILE)
    assert [row["line"] for row in annotated] == list(range(1, len(train) + 1))
    assert [row["text"] for row in annotated] == [row["text"] for row in train]
    # Types drawn from train.jsonl group at least three of its lines; the others were added
    # from knowledge of local government, with written examples only (nlp/data/needs/README.md).
    per_type = Counter(row["need"] for row in annotated)
    assert all(per_type[need] >= MIN_ANNOTATED for need in per_type if need != NO_TYPE)
    rows = training_rows(catalogue=catalogue)  # raises on an unknown type
    examples = Counter(row.label for row in rows)
    assert min(examples[need] for need in ids) >= MIN_EXAMPLES


def test_no_need_example_copies_an_evaluation_text() -> None:
    evaluation = {normalized(row["text"]) for row in lines(HELDOUT_FILE)}
    for path in (PAIRS_FILE, PAIRS_TEST_FILE, DEV_PAIRS):
        for pair in lines(path):
            evaluation.update((normalized(pair["a"]), normalized(pair["b"])))
    written = {normalized(row["text"]) for row in lines(EXAMPLES_FILE)}
    assert not written & evaluation


def test_a_need_worded_as_nowhere_in_the_data_gets_its_type(needs: NeedModel) -> None:
    distribution = needs.distribution(  # a title and a description, as the bot reads them
        "Location de la salle des fêtes\n"
        "pour louer la salle des fetes les gens doivent passer en mairie, on voudrait qu ils "
        "voient les dates libres et la bloquent depuis chez eux"
    )
    best = max(distribution, key=lambda need: distribution[need])
    assert best == "reservation_salles_municipales"
    assert needs.types[-1] == NO_TYPE and NO_TYPE not in distribution


@pytest.mark.parametrize(
    "text",
    [
        "",
        "🙂🙂🙂 👍",
        "We need an app so residents can book the town hall rooms online.",
        "Necesitamos una aplicación para reservar las salas municipales.",
        "zxqv wprt klmn bvcx",
        "réserver les salles " * 700,
        "\x00\x01 binaire \udcff",
    ],
)
def test_unfamiliar_or_odd_text_never_agrees_with_another(needs: NeedModel, text: str) -> None:
    similarity = load_similarity()
    distribution = needs.distribution(text)
    assert sum(distribution.values()) <= 1.0 + 1e-6
    if text.startswith("réserver"):  # long but French: understood, not refused
        assert "reservation_salles_municipales" in distribution
        return
    same_again = needs.distribution(text + " ")
    assert agreement(distribution, same_again) < similarity.settings.usage_threshold


def test_agreement_is_the_probability_of_the_same_type() -> None:
    assert agreement({"a": 0.5, "b": 0.5}, {"a": 1.0}) == pytest.approx(0.5)
    assert agreement({"a": 0.9}, {"b": 0.9}) == 0.0
    assert agreement({}, {"a": 1.0}) == 0.0
