"""Same-need detection: pairs, and the index the dialogue searches."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from nlp.index_entry import IndexEntry
from nlp.loading import load_similarity
from nlp.paths import TRAIN_FILE
from nlp.similarity import Analyzer, Similarity, SimilarityIndex

SIGNALEMENT = (
    "Les habitants n'ont aucun moyen simple de nous signaler un lampadaire en panne ou un "
    "trottoir abîmé : ils appellent l'accueil et l'information se perd."
)
SIGNALEMENT_CHAT = (
    "les gens appellent la mairie pour un lampadaire en panne ou un trottoir abime, on note sur "
    "un papier et ca se perd, faudrait qu ils puissent signaler en ligne"
)
BUDGET = "Nous voulons lancer un budget participatif avec un vote des habitants en ligne."
CANTINE = "les parents inscrivent les enfants a la cantine sur papier, on voudrait un portail"


@pytest.fixture(scope="module")
def similarity() -> Similarity:
    return load_similarity()


def test_the_same_need_in_other_words_is_the_same(similarity: Similarity) -> None:
    score, same = similarity.same(SIGNALEMENT, SIGNALEMENT_CHAT)
    assert same and score >= similarity.threshold


def test_two_needs_of_one_thematique_are_not_the_same(similarity: Similarity) -> None:
    score, same = similarity.same(SIGNALEMENT, BUDGET)
    assert not same and score < similarity.threshold


SALLE_RESERVATION = (
    "Les habitants veulent réserver la salle des fêtes en ligne, sans passer à la mairie."
)
SALLE_MENAGE = (
    "Suivre le nettoyage et l'état de la salle des fêtes après chaque location par les habitants."
)


def test_the_same_subject_with_another_usage_is_not_the_same_need(
    similarity: Similarity,
) -> None:
    score, _ = similarity.same(SALLE_RESERVATION, SALLE_MENAGE)
    assert score >= similarity.settings.usage_threshold  # the words alone would say yes
    assert similarity.same(SALLE_RESERVATION, SALLE_MENAGE, "reserver", "gerer")[1] is False
    assert similarity.same(SALLE_RESERVATION, SALLE_MENAGE, "reserver", "reserver")[1] is True


def test_a_shared_usage_lowers_the_bar_an_unknown_one_does_not(similarity: Similarity) -> None:
    settings = similarity.settings
    between = (settings.usage_threshold + settings.threshold) / 2
    assert similarity.decide(between, "informer", "informer")
    assert not similarity.decide(between, "informer", None)
    assert not similarity.decide(between, None, None)
    assert similarity.decide(settings.threshold, None, "informer")
    assert not similarity.decide(1.0, "informer", "payer")


@pytest.mark.parametrize("text", ["", "😀😀", "a" * 10_000, "the quick brown fox"])
def test_bad_input_is_never_the_same(similarity: Similarity, text: str) -> None:
    assert similarity.same(text, SIGNALEMENT)[1] is False


def test_search_finds_the_same_need_of_the_same_kind_only(similarity: Similarity) -> None:
    index = SimilarityIndex(similarity)
    index.add("c1", "besoin", SIGNALEMENT)
    index.add("c2", "besoin", BUDGET)
    index.add("c3", "besoin", CANTINE)
    index.add("s1", "service", SIGNALEMENT)
    found = index.search(SIGNALEMENT_CHAT, "besoin")
    assert [cid for cid, _ in found] == ["c1"]
    assert found[0][1] >= similarity.threshold
    assert [cid for cid, _ in index.search(SIGNALEMENT_CHAT, "service")] == ["s1"]
    assert index.search(SIGNALEMENT_CHAT, "besoin", exclude=["c1"]) == []


def test_search_returns_at_most_the_limit_best_first(similarity: Similarity) -> None:
    index = SimilarityIndex(similarity)
    for number in range(5):
        index.add(f"c{number}", "besoin", SIGNALEMENT + " " + "x" * number)
    index.add("best", "besoin", SIGNALEMENT_CHAT)
    found = index.search(SIGNALEMENT_CHAT, "besoin", limit=3)
    assert len(found) == 3
    assert found[0][0] == "best"
    assert [s for _, s in found] == sorted((s for _, s in found), reverse=True)


def test_a_replaced_or_removed_contribution_is_not_found(similarity: Similarity) -> None:
    index = SimilarityIndex(similarity)
    index.add("c1", "besoin", SIGNALEMENT)
    index.add("c1", "besoin", CANTINE)
    assert index.search(SIGNALEMENT_CHAT, "besoin") == []
    assert len(index) == 1
    index.remove("c1")
    assert index.search(CANTINE, "besoin") == []
    assert len(index) == 0


def texts_of_train(count: int) -> list[str]:
    lines = TRAIN_FILE.read_text(encoding="utf-8").splitlines()[:count]
    return [json.loads(line)["text"] for line in lines]


def test_an_entry_survives_its_storage(similarity: Similarity) -> None:
    [entry] = similarity.entries([SIGNALEMENT])
    text = json.dumps(entry.stored())  # what a JSON column keeps
    assert IndexEntry.from_stored(json.loads(text)) == entry
    assert IndexEntry.from_stored(text) == entry
    assert IndexEntry.from_stored(text.encode()) == entry
    assert entry.model == similarity.model_id
    assert entry.words and entry.types
    assert len(text) < 1000


@pytest.mark.parametrize(
    "stored",
    [
        None,
        "",
        "{",
        "[]",
        '{"f": 0, "m": "x", "w": {}, "n": {}}',
        '{"f": 1, "m": "x", "w": [], "n": {}}',
        '{"f": 1, "m": "x", "w": {"lampad": "lourd"}, "n": {}}',
        {"f": 1, "m": "x"},
        [1, 2],
        5,
    ],
)
def test_an_unreadable_or_older_entry_is_none(stored: object) -> None:
    assert IndexEntry.from_stored(stored) is None


def test_an_index_from_stored_entries_searches_as_one_from_texts(similarity: Similarity) -> None:
    texts = texts_of_train(300)
    kinds = ["besoin" if number % 3 else "service" for number in range(len(texts))]
    rows = list(zip(range(len(texts)), kinds, texts, strict=True))
    from_texts = SimilarityIndex[int](similarity)
    from_texts.add_many(rows)
    # As a JSON column gives them back
    stored = [json.loads(json.dumps(entry.stored())) for entry in similarity.entries(texts)]
    from_stored = SimilarityIndex[int](similarity)
    rewritten = from_stored.add_stored(
        (*row, value) for row, value in zip(rows, stored, strict=True)
    )
    assert rewritten == []
    assert len(from_stored) == len(from_texts) == 300
    searched = 0
    for query in [*texts[::10], SIGNALEMENT_CHAT, CANTINE]:
        for kind in ("besoin", "service"):
            found = from_texts.search(query, kind, limit=10, min_score=0.2)
            assert from_stored.search(query, kind, limit=10, min_score=0.2) == found
            searched += len(found)
    assert searched > 50  # the searches did find contributions


def test_missing_or_stale_entries_are_computed_and_given_back_to_store(
    similarity: Similarity,
) -> None:
    [signalement, budget] = similarity.entries([SIGNALEMENT, BUDGET])
    retrained = replace(signalement, model="another model")
    index = SimilarityIndex[str](similarity)
    rewritten = index.add_stored(
        [
            ("c1", "besoin", SIGNALEMENT, retrained.stored()),
            ("c2", "besoin", BUDGET, budget.stored()),
            ("c3", "besoin", CANTINE, None),
            ("c4", "besoin", CANTINE, "not json"),
        ]
    )
    assert [cid for cid, _ in rewritten] == ["c1", "c3", "c4"]
    assert IndexEntry.from_stored(dict(rewritten)["c1"]) == signalement
    assert [cid for cid, _ in index.search(SIGNALEMENT_CHAT, "besoin")] == ["c1"]
    assert [cid for cid, _ in index.search(CANTINE, "besoin")] == ["c3", "c4"]


def test_the_model_id_changes_with_the_model(similarity: Similarity) -> None:
    other_idf = dict(similarity.analyzer.idf, lampadaire=1.0)
    analyzer = Analyzer(similarity.analyzer.nlp, other_idf, similarity.settings.prefix)
    assert Similarity(analyzer, similarity.settings, similarity.needs).model_id != (
        similarity.model_id
    )
    words_alone = Similarity(similarity.analyzer, similarity.settings, None)
    assert words_alone.model_id != similarity.model_id
    assert load_similarity().model_id == similarity.model_id  # stable across loads


class _StandIn:
    """A similarity that only reads vectors and distributions, as the triage draft wraps one
    to read each text once (bot/consultation/drafting.py)."""

    def __init__(self, similarity: Similarity) -> None:
        self.analyzer = _VectorsOnly(similarity.analyzer)
        self.distributions = similarity.distributions
        self.threshold = similarity.threshold


class _VectorsOnly:
    def __init__(self, analyzer: Analyzer) -> None:
        self.vector = analyzer.vector


def test_an_index_of_texts_needs_only_vectors_and_distributions(similarity: Similarity) -> None:
    index = SimilarityIndex[str](similarity)
    stand_in = SimilarityIndex[str](_StandIn(similarity))  # type: ignore[arg-type]
    for each in (index, stand_in):
        each.add_many([("c1", "besoin", SIGNALEMENT), ("c2", "besoin", BUDGET)])
    assert stand_in.search(SIGNALEMENT_CHAT, "besoin") == index.search(SIGNALEMENT_CHAT, "besoin")
    assert [cid for cid, _ in index.search(SIGNALEMENT_CHAT, "besoin")] == ["c1"]
