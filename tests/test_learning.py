"""Learning from real use: what agents and administrators decide becomes labelled examples.

The conversation's thématique (confirmed or corrected), the answer to « Est-ce le même
besoin ? », an administrator's regroup, separation and proposals are read back from the
database (``bot.consultation.learning``); retraining with them changes the models' answers on
those very texts, and ``recueil nlp eval --feedback`` measures the models on them by week.
The retrainings here are the reduced configuration of ``test_nlp_retrain`` (seconds each).
"""

from __future__ import annotations

import itertools
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from databases import SQLITE_ONLY
from fake_transport import SimulatedAgent
from test_console import environment
from test_intake import register
from test_nlp_retrain import (
    NEED_TYPE_STEP,
    REDUCED_EPOCHS,
    REDUCED_NEED_SEEDS,
    REFERENCE,
    probes,
    reduced_need_types,
    top_predictions,
)
from test_recurrence import (
    SALLE_DES_FETES,
    SALLES,
    SALLES_AUTREMENT,
    agent,
    bob_joins_alice,
    describe,
    describe_until_thematique,
)
from test_regroup import HORAIRES, recueil

from bot.app.services import build_services
from bot.consultation.learning import collect, grouping_figures
from config.settings import Settings
from config.taxonomy import default_taxonomy
from config.typography import french as fr
from nlp.cli import main as nlp_cli
from nlp.corpus import read_labelled
from nlp.feedback import (
    ADMINISTRATOR,
    AGENT,
    THEMATIQUE_REPEAT,
    Feedback,
    PairDecision,
    ThematiqueDecision,
    need_type_rows,
    thematique_rows,
)
from nlp.loading import load_similarity
from nlp.needs import NO_TYPE, NeedModel, agreement, read_catalogue
from nlp.paths import DEV_PAIRS, HELDOUT_FILE, MODEL_DIR, PAIRS_FILE
from nlp.spacy_classifier import SETTINGS_FILE, SpacyClassifier
from nlp.training.build import build_model
from nlp.training.needs import NEEDS_PLAN, train_need_model, training_rows
from nlp.training.textcat import TrainingPlan
from storage.store import Store

MONDAY = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


async def describe_corrected(someone: SimulatedAgent, title: str, description: str) -> None:
    """A need up to the same-need question (or the summary), another thématique chosen."""
    await describe_until_thematique(someone, title, description)
    assert fr("C’est bien cela ?") in someone.text  # the classifier is confident
    await someone.say("2")  # « Voir d’autres thématiques »
    await someone.say("1")  # the second of the ranking
    await someone.press("reserver")


async def test_what_users_decide_is_read_back_and_the_administrator_wins(
    engine_with_search, store: Store
) -> None:
    alice = agent(engine_with_search, "alice")
    await register(alice, "Villeurbanne")
    await describe(alice, *SALLES)
    await alice.say("Envoyer")  # B-0001, its thématique confirmed

    bob = agent(engine_with_search, "bob")
    await register(bob, "Grenoble")
    await describe(bob, *SALLES_AUTREMENT)
    assert "a déjà décrit un besoin proche" in bob.text
    await bob.say("1")  # the same need as B-0001
    await bob.say("Envoyer")  # B-0002

    claire = agent(engine_with_search, "claire")
    await register(claire, "Lyon")
    await describe_corrected(claire, *HORAIRES)
    await claire.say("Envoyer")  # B-0003, another thématique than the suggestion

    dave = agent(engine_with_search, "dave")
    await register(dave, "Nantes")
    await describe(dave, *SALLE_DES_FETES)
    assert fr("L’un d’eux est-il le même ?") in dave.text  # B-0001 and B-0002
    await dave.say("Aucun, le mien est différent")
    await dave.say("Envoyer")  # B-0004: an agent said it differs from both

    admin = agent(engine_with_search, "admin")
    await register(admin, "Rennes")
    await admin.say("!regrouper B-0003 B-0001")
    await admin.say("!separer B-0003")  # the later decision stands
    with store.transaction() as tx:
        tx.create_proposal(
            "test:admin",
            title="Louer les salles en ligne",
            contributions=["B-0001", "B-0004"],
            thematique="culture_sport_tourisme",
        )
        found = collect(tx)
    suggested = {d.key: d.thematique for d in found.thematiques if d.source == AGENT}
    assert suggested["B-0001"] == suggested["B-0002"] == "patrimoine_equipements"

    decided = found.resolved()
    thematiques = {d.key: (d.thematique, d.source, d.corrected) for d in decided.thematiques}
    assert thematiques == {
        "B-0001": ("culture_sport_tourisme", ADMINISTRATOR, True),
        "B-0002": ("patrimoine_equipements", AGENT, False),
        "B-0003": (thematiques["B-0003"][0], AGENT, True),
        "B-0004": ("culture_sport_tourisme", ADMINISTRATOR, True),
    }
    assert thematiques["B-0003"][0] != "energies_dechets"  # the corrected choice is kept
    text = {d.key: d.text for d in decided.thematiques}
    assert text["B-0001"] == "\n".join([*SALLES, ""])  # what the classifier read (no handling)
    pairs = {p.key: (p.same, p.source) for p in decided.pairs}
    assert pairs == {
        ("B-0001", "B-0002"): (True, AGENT),
        ("B-0001", "B-0003"): (False, ADMINISTRATOR),
        ("B-0001", "B-0004"): (True, ADMINISTRATOR),  # dave said no; the proposal groups them
        ("B-0002", "B-0004"): (False, AGENT),
    }
    assert all(p.usage_a == p.usage_b == "reserver" for p in decided.pairs if p.key[0] != "B-0003")

    # B-0001, B-0002 (joined) and B-0004 (the proposal) are one group: each text taught once.
    needs = load_similarity().needs
    assert needs is not None
    learned = need_type_rows(found, needs)
    assert sorted(row.text for row in learned) == sorted(
        "\n".join(need) for need in (SALLES, SALLES_AUTREMENT, SALLE_DES_FETES)
    )
    assert {row.label for row in learned} == {"reservation_salles_municipales"}

    rows = thematique_rows(found, default_taxonomy().ids)
    assert len(rows) == 4 * THEMATIQUE_REPEAT
    assert {row.label for row in rows if row.text == text["B-0001"]} == {"culture_sport_tourisme"}


def test_a_correction_changes_the_retrained_thematique(tmp_path: Path) -> None:
    """The reduced model misreads some held-out texts; users' corrections of three of them are
    learned, the other mistakes stay (a correction teaches its text, not a new model)."""
    reference = json.loads(REFERENCE.read_text(encoding="utf-8"))["thematique"]["top"]
    rows = read_labelled(HELDOUT_FILE)[::3]  # the probes, with their true labels
    wrong = [n for n, row in enumerate(rows) if reference[n][0][0] != row.label]
    taught, untaught = wrong[:3], wrong[3:]
    assert len(untaught) >= 5
    feedback = Feedback(
        [
            ThematiqueDecision(f"B-{n:04d}", rows[n].text, rows[n].label, AGENT, MONDAY, True)
            for n in taught
        ]
    )
    reduced_thematique_model(tmp_path, feedback)
    settings = json.loads((tmp_path / SETTINGS_FILE).read_text(encoding="utf-8"))
    assert settings["feedback"] == {"thematique_lines": 3 * THEMATIQUE_REPEAT}
    got = top_predictions(SpacyClassifier.load(tmp_path).nlp, probes())
    assert [got[n][0][0] for n in taught] == [rows[n].label for n in taught]
    still_wrong = sum(got[n][0][0] != rows[n].label for n in untaught)
    assert still_wrong >= len(untaught) - 2
    kept = sum(g[0][0] == r[0][0] for g, r in zip(got, reference, strict=True))
    assert kept >= 0.85 * len(reference)

    # RECUEIL_MODEL_DIR: the bot reads the retrained model, and classifies as the users did.
    settings = Settings(data_dir=tmp_path / "var", model_dir=tmp_path)
    classifier = build_services(settings).classifier
    assert [classifier.predict(rows[n].text).best[0] for n in taught] == [
        rows[n].label for n in taught
    ]
    shipped_guess = build_services(Settings(data_dir=tmp_path / "var")).classifier
    assert [shipped_guess.predict(rows[n].text).best[0] for n in taught] != [
        rows[n].label for n in taught
    ]


RESEAU_DE_CHALEUR = (
    "Raccordement au réseau de chaleur",
    "y a un reseau de chaleur bois dans le bourg, on voudrait que les particuliers sachent "
    "s'ils peuvent se raccorder et combien ca coute",
)
"""A held-out text (not written for this test) that the reduced model files elsewhere."""


def reduced_thematique_model(output: Path, feedback: Feedback | None) -> SpacyClassifier:
    shipped = json.loads((MODEL_DIR / SETTINGS_FILE).read_text(encoding="utf-8"))
    build_model(
        output,
        default_taxonomy(),
        plan=replace(TrainingPlan(), epochs=REDUCED_EPOCHS),
        calibration=shipped["calibration"],
        needs=False,
        feedback=feedback,
        log=str,
    )
    return SpacyClassifier.load(output)


async def test_a_thematique_corrected_in_the_conversation_is_learned(
    engine, store: Store, database_url: str, reduced_thematique_dir: Path, tmp_path: Path
) -> None:
    """From the agent's correction in chat to the retrained model's answer on that text."""
    agent_ = agent(engine, "alice")
    await register(agent_, "Villeurbanne")
    await describe_until_thematique(agent_, *RESEAU_DE_CHALEUR)
    if fr("C’est bien cela ?") in agent_.text:
        await agent_.press("non")
    await agent_.press("autre")  # the whole list
    await agent_.press("energies_dechets")
    await agent_.press("informer")
    await agent_.say("Envoyer")
    with store.transaction() as tx:
        found = collect(tx)
    [decision] = found.thematiques
    assert (decision.key, decision.thematique) == ("B-0001", "energies_dechets")
    text = decision.text
    if not database_url.startswith("sqlite"):
        return  # the same decision read back; the retraining reads it, not the database: once

    before = SpacyClassifier.load(reduced_thematique_dir).predict(text).best[0]
    assert before != "energies_dechets"  # what makes the test worth running
    after = reduced_thematique_model(tmp_path, found).predict(text).best[0]
    assert after == "energies_dechets"


def test_a_join_teaches_the_need_types_its_other_wording(tmp_path: Path) -> None:
    """Pairs of the same need that the reduced need-type model does not recognise: once users
    say they are the same, retraining makes both texts read the same need type."""
    reduced_need_types(tmp_path / "base")
    base = NeedModel.load(tmp_path / "base")
    labelled = [json.loads(line) for path in (DEV_PAIRS, PAIRS_FILE) for line in path.open()]
    missed = []
    for pair in labelled:
        if not pair["same"]:
            continue
        first, second = base.distributions([pair["a"], pair["b"]])
        confident = max([*first.values(), *second.values()], default=0.0) >= 0.5
        if agreement(first, second) < 0.1 and confident:
            missed.append(pair)
    taught, untaught = missed[:3], missed[3:6]
    assert len(untaught) == 3
    feedback = Feedback(
        [],
        [
            PairDecision((f"B-{n}1", f"B-{n}2"), p["a"], p["b"], True, AGENT, MONDAY)
            for n, p in enumerate(taught)
        ]
        + [PairDecision(("B-9", "B-8"), SALLES[1], HORAIRES[1], False, AGENT, MONDAY)],
    )
    learned = need_type_rows(feedback, base)
    assert [row.text for row in learned] == [text for p in taught for text in (p["a"], p["b"])]

    catalogue = read_catalogue()
    kept = catalogue[::NEED_TYPE_STEP]
    labels = {item.id for item in kept} | {NO_TYPE}
    rows = [row for row in training_rows(catalogue=catalogue) if row.label in labels]
    plan = replace(NEEDS_PLAN, epochs=REDUCED_EPOCHS)
    retrained = train_need_model(
        tmp_path / "fed", kept, rows + learned, plan, log=str, members=REDUCED_NEED_SEEDS
    )

    def agreements(model: NeedModel, pairs: list[dict[str, str]]) -> list[float]:
        return [agreement(*model.distributions([p["a"], p["b"]])) for p in pairs]

    assert all(after >= 0.3 for after in agreements(retrained, taught)), agreements(
        retrained, taught
    )
    assert all(after < 0.3 for after in agreements(retrained, untaught))


@SQLITE_ONLY
async def test_eval_feedback_reports_by_week_from_the_database(
    engine_with_search, store: Store, database_url: str, tmp_path: Path, capsys
) -> None:
    data_dir = engine_with_search.services.settings.data_dir
    env = environment(data_dir, RECUEIL_DATABASE_URL=database_url)
    empty = await recueil("nlp", "eval", "--feedback", env=env)
    assert empty.returncode == 0, empty.stderr
    assert "aucune décision enregistrée" in empty.stdout
    assert "aucune paire jugée" in empty.stdout

    await bob_joins_alice(engine_with_search)

    report = await recueil("nlp", "eval", "--feedback", env=env)
    assert report.returncode == 0, report.stderr
    assert fr("Thématique : le modèle actuel face aux choix") in report.stdout
    rows = [" ".join(line.split()) for line in report.stdout.splitlines()]
    assert "2026-S49 2 0 1,000 1,000" in rows  # thématique: decisions, corrected, accuracy, top-3
    assert "2026-S49 1 1 1,000 1,000" in rows  # pairs: judged, same, precision, recall

    saved = tmp_path / "decisions.jsonl"
    written = await recueil("nlp", "feedback", "--output", str(saved), env=env)
    assert written.returncode == 0, written.stderr
    assert fr("Décisions écrites dans") in written.stderr
    assert fr("thématiques : 2, paires : 1") in written.stderr
    assert len(Feedback.read(saved).thematiques) == 2
    with pytest.raises(SystemExit, match="Les décisions des utilisateurs sont dans la base"):
        nlp_cli(["eval", "--feedback"])  # ``python -m nlp.cli`` has no database
    assert nlp_cli(["eval", "--feedback-file", str(saved), "--json"]) == 0
    measured = json.loads(capsys.readouterr().out)
    assert measured["thematique"] == [
        {"week": "2026-S49", "decisions": 2, "corrected": 0, "accuracy": 1.0, "top3": 1.0}
    ]
    assert measured["pairs"] == [
        {"week": "2026-S49", "pairs": 1, "same": 1, "precision": 1.0, "recall": 1.0}
    ]


def test_grouping_figures_count_every_pair_as_a_brute_force_would() -> None:
    drafted = {"a": "G1", "b": "G1", "c": "G2", "d": "G2", "e": "G3", "f": "G4"}
    decided = {"a": "P1", "b": "P1", "c": "P1", "d": "P2", "e": "P2"}  # f: in no proposal
    pairs = list(itertools.combinations(decided, 2))
    together = [(x, y) for x, y in pairs if decided[x] == decided[y]]
    drafted_together = [(x, y) for x, y in pairs if drafted[x] == drafted[y]]
    both = set(together) & set(drafted_together)
    figures = grouping_figures(drafted, decided)
    assert figures["precision"] == len(both) / len(drafted_together) == 0.5
    assert figures["recall"] == len(both) / len(together) == 0.25
    assert (figures["contributions"], figures["proposals"], figures["draft_groups"]) == (5, 2, 3)


@SQLITE_ONLY
async def test_the_draft_is_compared_with_the_administrators_proposals(
    engine_with_search, store: Store, database_url: str
) -> None:
    env = environment(
        engine_with_search.services.settings.data_dir, RECUEIL_DATABASE_URL=database_url
    )
    none = await recueil("proposals", "compare", env=env)
    assert none.returncode == 1
    assert fr("Aucune contribution n’est encore rangée dans une proposition.") in none.stderr

    await bob_joins_alice(engine_with_search)  # the draft puts B-0001 and B-0002 together
    claire = agent(engine_with_search, "claire")
    await register(claire, "Lyon")
    await describe(claire, *HORAIRES)
    await claire.say("Envoyer")
    with store.transaction() as tx:  # the administrators put all three in one proposal
        tx.create_proposal(
            "test:admin", title="Équipements", contributions=["B-0001", "B-0002", "B-0003"]
        )

    compared = await recueil("proposals", "compare", env=env)
    assert compared.returncode == 0, compared.stderr
    assert fr("3 contributions rangées dans 1 proposition ; l’ébauche refaite") in compared.stdout
    assert fr("Paires mises ensemble : 3 par les administrateurs, 1 par l’ébauche.") in (
        compared.stdout
    )
    assert "Précision 1,000" in compared.stdout and "rappel 0,333" in compared.stdout


def test_a_decisions_file_reads_back_and_a_bad_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "décisions.jsonl"
    decision = ThematiqueDecision(
        "B-0001", "Réserver la salle", "patrimoine_equipements", AGENT, MONDAY
    )
    pair = PairDecision(("B-0001", "B-0002"), "a", "b", True, ADMINISTRATOR, MONDAY, "reserver")
    Feedback([decision], [pair]).write(path)
    assert Feedback.read(path) == Feedback([decision], [pair])
    with path.open("a", encoding="utf-8") as handle:
        handle.write("<html>pas une décision</html>\n")
    with pytest.raises(SystemExit, match=fr("ligne 3 : ce n’est pas une décision écrite par")):
        nlp_cli(["eval", "--feedback-file", str(path)])
