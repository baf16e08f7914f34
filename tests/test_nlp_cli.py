"""``recueil nlp classify``, ``eval`` and ``same`` end to end, through their functions."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import pytest

from config.taxonomy import default_taxonomy
from nlp.cli import add_commands, classify_lines, evaluate_file, format_evaluation, same_lines
from nlp.spacy_classifier import MODEL_DIR, SpacyClassifier


@pytest.fixture(scope="module")
def classifier() -> SpacyClassifier:
    return SpacyClassifier.load()


def test_classify_reads_json_lines_and_plain_lines(classifier: SpacyClassifier) -> None:
    stdin = io.StringIO(
        json.dumps({"id": "a1", "text": "pas de bus le soir pour rentrer du lycee"}) + "\n"
        "\n"
        "les poubelles debordent depuis que la collecte passe une fois par semaine\n"
        '{"id": 7, "text": ""}\n'
    )
    out = io.StringIO()
    assert classify_lines(classifier, stdin, out) == 3
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["id"] for line in lines] == ["a1", 3, 7]
    ids = set(default_taxonomy().ids)
    for line in lines:
        assert set(line) == {"id", "thematique", "score", "top"}
        assert line["thematique"] in ids
        assert len(line["top"]) == 3
        assert line["top"][0] == [line["thematique"], line["score"]]
    assert lines[0]["thematique"] == "mobilite_transports"


def test_eval_reports_every_figure(classifier: SpacyClassifier, tmp_path: Path) -> None:
    data = tmp_path / "small.jsonl"
    rows = [
        ("pas de bus le soir pour rentrer du lycee", "mobilite_transports"),
        ("inscription cantine en ligne pour les parents", "education_emploi"),
        ("les encombrants trainent sur les trottoirs", "energies_dechets"),
    ]
    data.write_text(
        "".join(json.dumps({"text": t, "label": label}) + "\n" for t, label in rows),
        encoding="utf-8",
    )
    result = evaluate_file(classifier, data, default_taxonomy())
    assert result["count"] == 3
    for key in ("accuracy", "macro_f1", "top3", "per_thematique", "confusions", "throughput"):
        assert key in result
    assert set(result["per_thematique"]) == set(default_taxonomy().ids)
    assert result["confident"]["count"] + result["uncertain"]["count"] == 3
    text = format_evaluation(result)
    assert "macro-F1" in text and "top-3" in text and "textes par seconde" in text


def test_same_answers_each_pair() -> None:
    stdin = io.StringIO(
        json.dumps(
            {
                "a": "Réservation en ligne des salles municipales par les associations.",
                "b": "les assos veulent reserver les salles municipales en ligne",
            }
        )
        + "\n"
        + json.dumps({"a": "budget participatif", "b": "collecte des encombrants"})
        + "\n"
        + json.dumps(
            {
                "a": "Réservation en ligne des salles municipales par les associations.",
                "b": "les assos veulent reserver les salles municipales en ligne",
                "usage_a": "reserver",
                "usage_b": "payer",
            }
        )
        + "\n"
    )
    out = io.StringIO()
    assert same_lines(MODEL_DIR, stdin, out) == 3
    first, second, third = (json.loads(line) for line in out.getvalue().splitlines())
    assert set(first) == {"score", "same", "words", "need"}  # the score and its two parts
    assert first["same"] is True
    assert second["same"] is False
    assert third == {**first, "same": False}  # another usage: another need


def test_the_commands_hook_into_a_parser() -> None:
    parser = argparse.ArgumentParser()
    add_commands(parser.add_subparsers(dest="command"))
    for argv in (["nlp", "train"], ["nlp", "classify"], ["nlp", "eval"], ["nlp", "same"]):
        assert callable(parser.parse_args(argv).handler)
    assert parser.parse_args(["nlp", "eval", "x.jsonl"]).file == Path("x.jsonl")
