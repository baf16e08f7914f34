"""The machine's draft of the proposals: links, need types, similar texts, stable keys."""

from __future__ import annotations

import random

import pytest
from contribution_views import view

from bot.consultation.drafting import (
    BY_AGENT,
    DRAFT_COLUMNS,
    SAME_NEED_TYPE,
    DraftSettings,
    draft,
    draft_records,
    pair_figures,
    reference_order,
)
from bot.consultation.spreadsheet import read_table, write_table
from config.taxonomy import default_taxonomy
from nlp.loading import load_similarity
from nlp.needs import read_catalogue
from nlp.similarity import Similarity

HALL = [  # reservation_salles_municipales, from the catalogue's examples
    "mariage en juin, je veux savoir si la salle des fetes est libre le 14 sans appeler la mairie",
    "Les habitants et les associations ne connaissent ni les disponibilités ni les tarifs des "
    "salles communales et doivent se déplacer ou téléphoner pour chaque demande.",
]
HALL_SERVICE = (
    "Calendrier en ligne des disponibilités des quatre salles municipales, avec demande de "
    "réservation, tarif calculé selon le statut du demandeur et versement de l'acompte par carte."
)
STREET = (  # signalement_problemes_espace_public
    "je croise un lampadaire qui clignote, une grille d egout bouchée, un banc cassé... je dois "
    "appeler qui a la ville ? y a pas une appli ?"
)
ALONE = "Nos archives municipales du XIXe siècle s'abîment dans une cave humide."


@pytest.fixture(scope="module")
def similarity() -> Similarity:
    return load_similarity()


def contributions() -> list:  # type: ignore[type-arg]
    return [
        view(1, "besoin", "Salle des fêtes", HALL[0], "reserver"),
        view(2, "besoin", "Salles communales", HALL[1], "reserver"),
        view(3, "service", "Réservation des salles", HALL_SERVICE, "reserver"),
        view(4, "besoin", "Signaler un problème", STREET, "signaler"),
        view(5, "besoin", "Lampadaires", "un lampadaire en panne", "signaler", same_as=4),
        view(6, "besoin", "Archives", ALONE, "gerer"),
        view(7, "service", "Appli de signalement", "Nous avons une appli.", "signaler", same_as=4),
    ]


def test_each_kind_of_evidence_joins_and_is_named(similarity: Similarity) -> None:
    rows = {row.reference: row for row in draft(contributions(), similarity, read_catalogue())}
    assert len(rows) == 7
    # the agents' links, even from a service to a need
    assert rows["B-0005"].key == rows["B-0004"].key == rows["S-0007"].key == "G-B-0004"
    assert rows["B-0005"].reason == rows["S-0007"].reason == rows["B-0004"].reason == BY_AGENT
    # the same need type joins needs, never a need and a service without an agent's link
    assert rows["B-0001"].key == rows["B-0002"].key == "G-B-0001"
    assert rows["B-0001"].reason == SAME_NEED_TYPE
    assert rows["B-0001"].need_type == "reservation_salles_municipales"
    assert rows["S-0003"].key == "G-S-0003"
    # singletons stay singletons, with their own title
    assert rows["B-0006"].key == "G-B-0006" and rows["B-0006"].reason is None
    assert rows["B-0006"].group_title == "Archives" and rows["B-0006"].group_size == 1
    assert rows["B-0001"].group_title in {"Salle des fêtes", "Salles communales"}


def test_similar_texts_join_under_the_conversation_rule(similarity: Similarity) -> None:
    text = "Les familles ne peuvent pas inscrire leurs enfants à la cantine scolaire en ligne"
    views = [
        view(1, "besoin", "Cantine", text, "inscrire"),
        view(2, "besoin", "Cantine", text + " et doivent venir en mairie", "inscrire"),
        view(3, "besoin", "Cantine", text + " le soir", "payer"),  # another usage: never
    ]
    settings = DraftSettings(need_types=False)
    rows = {row.reference: row for row in draft(views, similarity, [], settings)}
    assert rows["B-0001"].key == rows["B-0002"].key
    assert rows["B-0001"].reason == "texte proche"
    assert rows["B-0003"].key == "G-B-0003"


def test_keys_are_stable_whatever_the_order(similarity: Similarity) -> None:
    catalogue = read_catalogue()
    first = draft(contributions(), similarity, catalogue)
    shuffled = contributions()
    random.Random(3).shuffle(shuffled)
    second = draft(shuffled, similarity, catalogue)
    assert first == second
    assert first[0].group_size >= first[-1].group_size


def test_without_a_model_only_the_agents_links_group() -> None:
    rows = {row.reference: row for row in draft(contributions(), None)}
    assert rows["B-0001"].key == "G-B-0001" and rows["B-0002"].key == "G-B-0002"
    assert rows["S-0007"].key == "G-B-0004"


def test_the_draft_file_has_french_columns_and_one_title_per_group(
    similarity: Similarity,
) -> None:
    rows = draft(contributions(), similarity, read_catalogue())
    records = draft_records(rows, default_taxonomy())
    table = read_table(write_table(DRAFT_COLUMNS, records, "ods"))
    assert table.columns == DRAFT_COLUMNS
    by_key: dict[str, list[str]] = {}
    for row in table.rows:
        by_key.setdefault(row.get("proposition"), []).append(row.get("titre_proposition"))
    for titles in by_key.values():
        assert titles[0] and not any(titles[1:])
    assert {row.get("raison") for row in table.rows} >= {"rejointe par l’agent", ""}


def test_pair_figures() -> None:
    groups = {"a": "1", "b": "1", "c": "2", "d": "2", "e": "3"}
    pairs = [("a", "b", True), ("c", "d", False), ("a", "e", True), ("b", "e", False)]
    assert pair_figures(groups, pairs) == {"grouped": 2, "precision": 0.5, "recall": 0.5}


def test_references_sort_by_number() -> None:
    assert sorted(["B-10000", "B-9999", "B-0010", "B-0009"], key=reference_order) == [
        "B-0009",
        "B-0010",
        "B-9999",
        "B-10000",
    ]
