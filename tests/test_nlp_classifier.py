"""The shipped thématique classifier: loads from the package, ranks real wording, never fails."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

import nlp
from config.taxonomy import default_taxonomy
from nlp.classifier import KeywordClassifier
from nlp.loading import load_classifier, model_available
from nlp.spacy_classifier import MODEL_DIR, SpacyClassifier

# One message per thématique, written for this test (not taken from nlp/data).
MESSAGES = {
    "citoyennete": "on voudrait que les habitants puissent donner leur avis en ligne sur le "
    "reamenagement de la place avant le vote du conseil municipal",
    "culture_sport_tourisme": "La médiathèque intercommunale souhaite proposer la réservation "
    "de livres et l'inscription aux animations depuis internet.",
    "demarches_aides": "les usagers font la queue pour les passeports, on voudrait un agenda en "
    "ligne pour prendre rdv",
    "donnees_dematerialisation": "Nos élus reçoivent encore les convocations et les dossiers du "
    "conseil sur papier ; nous cherchons une solution de dématérialisation sécurisée.",
    "economie_circuits_courts": "les agriculteurs du canton vendent en direct mais personne sait "
    "ou les trouver, une carte des fermes serait utile",
    "education_emploi": "inscriptions a l accueil periscolaire du mercredi encore sur papier, "
    "les parents veulent le faire en ligne",
    "energies_dechets": "On aimerait prévenir les habitants quand la tournée des poubelles "
    "jaunes est décalée à cause d'un jour férié.",
    "environnement_agriculture": "Les relevés de la qualité de l'eau des rivières ne sont pas "
    "partagés avec les habitants et les pêcheurs.",
    "patrimoine_equipements": "pour louer la salle des fetes les assos doivent passer en mairie "
    "voir le cahier, on veut un planning en ligne",
    "inclusion_numerique": "beaucoup de retraités ne savent pas utiliser internet, on cherche à "
    "organiser des permanences d'aide au numérique",
    "mobilite_transports": "pas de bus le dimanche, les jeunes sans permis ne peuvent pas aller "
    "en ville, on pense a du covoiturage organise",
    "solidarite_accessibilite": "Le CCAS veut repérer plus tôt les personnes âgées isolées pour "
    "leur proposer des visites à domicile.",
    "tiers_lieux_revitalisation": "on veut transformer l'ancienne poste en espace de coworking "
    "avec un atelier partagé pour les artisans et les télétravailleurs",
    "urbanisme_logement": "les demandes de permis de construire arrivent encore en papier et "
    "l'instruction avec le service ADS prend trop de temps",
}

BAD_INPUTS = {
    "empty": "",
    "blank": "   \n\t ",
    "emoji": "😀🎉👍🏽❤️🔥",
    "10000 letters": "a" * 10_000,
    "10000 random": "".join(chr(33 + (i * 7919) % 90) for i in range(10_000)),
    "english": "We need an app so that residents can book the sports hall and pay online.",
    "german": "Wir brauchen eine Plattform, damit die Bürger Schlaglöcher melden können.",
    "spanish": "Necesitamos una aplicación para que los vecinos reserven el autobús a demanda.",
    "lone surrogate": "\ud800\udfff \ud800",
    "markup": "<script>alert('x')</script>",
}


@pytest.fixture(scope="module")
def classifier() -> SpacyClassifier:
    return SpacyClassifier.load()


def test_the_model_ships_inside_the_package() -> None:
    assert model_available()
    assert MODEL_DIR.is_relative_to(Path(nlp.__file__).parent)


def test_the_bot_loads_the_trained_model() -> None:
    assert isinstance(load_classifier(default_taxonomy()), SpacyClassifier)


@pytest.mark.parametrize("thematique", sorted(MESSAGES))
def test_a_message_of_each_thematique_is_in_the_top_three(
    classifier: SpacyClassifier, thematique: str
) -> None:
    prediction = classifier.predict(MESSAGES[thematique])
    assert thematique in [tid for tid, _ in prediction.top(3)]


def test_scores_are_ranked_and_sum_to_one(classifier: SpacyClassifier) -> None:
    prediction = classifier.predict(MESSAGES["mobilite_transports"])
    scores = [score for _, score in prediction.ranked]
    assert len(scores) == len(default_taxonomy())
    assert scores == sorted(scores, reverse=True)
    assert math.isclose(sum(scores), 1.0, abs_tol=1e-6)


def test_batch_and_single_predictions_agree(classifier: SpacyClassifier) -> None:
    texts = list(MESSAGES.values())
    batch = classifier.predict_many(texts)
    for text, prediction in zip(texts, batch, strict=True):
        assert classifier.predict(text).best[0] == prediction.best[0]


@pytest.mark.parametrize("text", BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_bad_input_gets_a_low_confidence_answer(classifier: SpacyClassifier, text: str) -> None:
    prediction = classifier.predict(text)
    assert len(prediction.ranked) == len(default_taxonomy())
    assert prediction.best[1] < classifier.threshold


def test_a_lone_surrogate_in_french_text_is_read_without_error(
    classifier: SpacyClassifier,
) -> None:
    prediction = classifier.predict("inscription cantine \ud800 en ligne")
    assert prediction.best[0] == "education_emploi"


def test_a_long_french_text_is_read_without_error(classifier: SpacyClassifier) -> None:
    text = " ".join(MESSAGES.values()) * 20
    assert len(text) > 10_000
    prediction = classifier.predict(text)
    assert math.isclose(sum(s for _, s in prediction.ranked), 1.0, abs_tol=1e-6)


def test_loading_needs_no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the model tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    assert SpacyClassifier.load().predict(MESSAGES["energies_dechets"]).ranked


def test_without_a_model_the_bot_falls_back_to_keywords_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("WARNING", logger="nlp.loading"):
        classifier = load_classifier(default_taxonomy(), tmp_path)
    assert isinstance(classifier, KeywordClassifier)
    assert "keyword classifier used" in caplog.text
