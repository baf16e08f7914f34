"""``recueil nlp classify``, ``eval`` and ``same`` end to end, through their functions."""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

import pytest

from config.taxonomy import default_taxonomy
from config.typography import french as fr
from nlp.cli import (
    Classified,
    add_commands,
    classify_lines,
    evaluate_file,
    format_evaluation,
    same_lines,
)
from nlp.spacy_classifier import MODEL_DIR, SpacyClassifier


@pytest.fixture(scope="module")
def classifier() -> SpacyClassifier:
    return SpacyClassifier.load()


def test_classify_reads_json_lines_and_plain_lines(classifier: SpacyClassifier) -> None:
    stdin = io.BytesIO(
        (
            json.dumps({"id": "a1", "text": "pas de bus le soir pour rentrer du lycee"}) + "\n"
            "les poubelles debordent depuis que la collecte passe une fois par semaine\n"
            '{"id": 7, "text": "inscription à la cantine en ligne"}\n'
        ).encode()
    )
    out, errors = io.StringIO(), io.StringIO()
    assert classify_lines(classifier, stdin, out, errors) == Classified(3, 0)
    assert errors.getvalue() == ""
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["id"] for line in lines] == ["a1", 2, 7]
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
    given = (
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
        # a line that is not UTF-8 is answered with an error, like any line that is not JSON
        + "\udcff\udcfe binaire\n"
    )
    stdin = io.BytesIO(given.encode("utf-8", "surrogateescape"))
    out = io.StringIO()
    assert same_lines(MODEL_DIR, stdin, out) == 3
    first, second, third, fourth = (json.loads(line) for line in out.getvalue().splitlines())
    assert set(first) == {"score", "same", "words", "need"}  # the score and its two parts
    assert first["same"] is True
    assert second["same"] is False
    assert third == {**first, "same": False}  # another usage: another need
    assert fourth == {
        "error": fr(
            'ligne 4 : ce n’est pas du texte UTF-8 (attendu : un objet {"a": "…", "b": "…"})'
        )
    }


def test_same_refuses_a_line_without_both_texts() -> None:
    """Found in a trial: « {"a": "x"} » was compared with an empty text and answered
    « "score": 0.0, "same": false », as if the two needs differed."""
    given = "\n".join(
        [
            json.dumps({"a": "budget participatif"}),
            "",
            json.dumps({"a": "budget participatif", "b": "   "}),
            json.dumps({"b": "budget participatif", "a": 3}),
            "{pas du json",
            json.dumps({"a": "budget participatif", "b": "collecte des encombrants"}),
        ]
    )
    out = io.StringIO()
    assert same_lines(MODEL_DIR, io.BytesIO(given.encode()), out) == 1
    answers = [json.loads(line) for line in out.getvalue().splitlines()]
    errors = [a.get("error", "") for a in answers[:4]]
    assert errors[0].startswith(fr("ligne 1 : le champ « b » manque ou est vide (attendu :"))
    assert errors[1].startswith(fr("ligne 3 : le champ « b » manque ou est vide"))
    assert errors[2].startswith(fr("ligne 4 : le champ « a » manque ou est vide"))
    assert errors[3].startswith(fr("ligne 5 : JSON illisible à la colonne 2"))
    assert answers[4]["same"] is False and "score" in answers[4]


def test_the_commands_hook_into_a_parser() -> None:
    parser = argparse.ArgumentParser()
    add_commands(parser.add_subparsers(dest="command"))
    for argv in (["nlp", "train"], ["nlp", "classify"], ["nlp", "eval"], ["nlp", "same"]):
        assert callable(parser.parse_args(argv).handler)
    assert parser.parse_args(["nlp", "eval", "x.jsonl"]).file == Path("x.jsonl")


BAD_LABELLED_FILES = {
    "broken JSON": (b'{"reference": "B-1", \n', "ligne 1 : JSON illisible à la colonne 21"),
    "binary": (
        b'{"text": "pas de bus", "label": "mobilite_transports"}\n\x80\x81\n',
        "ligne 2 : ce n’est pas du texte UTF-8",
    ),
    "json export": (b'[\n{"reference": "B-0001"}\n]\n', "ligne 1 : un objet JSON {…} par ligne"),
    "no label": (b'\n{"text": "pas de bus le soir"}\n', "ligne 2 : le champ « label » manque"),
    "unknown label": (
        b'{"text": "pas de bus", "label": "inconnue"}\n',
        "ligne 1 : thématique inconnue « inconnue »",
    ),
}


@pytest.mark.parametrize(
    "command",
    [["eval", "{bad}"], ["train", "--data", "{bad}", "--output", "{model}"]],
    ids=["eval", "train"],
)
@pytest.mark.parametrize("case", BAD_LABELLED_FILES)
def test_a_bad_labelled_file_is_refused_in_french_without_a_traceback(
    case: str, command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.app.cli import main

    monkeypatch.setenv("RECUEIL_DATA_DIR", str(tmp_path))
    content, expected = BAD_LABELLED_FILES[case]
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(content)
    with pytest.raises(SystemExit) as refused:
        main(["nlp", *(a.format(bad=bad, model=tmp_path / "model") for a in command)])
    message = str(refused.value.code).replace("\u202f", " ").replace("\u00a0", " ")
    assert message.startswith(f"{bad}, {expected}")
    assert not (tmp_path / "model").exists()


def test_classify_names_each_bad_line_and_classifies_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found in a trial: an empty line was skipped silently, a broken JSON line was
    classified as if its braces were the text, a binary line got a thématique."""
    from cli_runner import plain

    from bot.app.cli import main

    monkeypatch.setenv("RECUEIL_DATA_DIR", str(tmp_path))
    given = (
        b'{"id": "a", "text": "pas de bus le soir pour rentrer du lycee"}\n'
        b"\n"
        b'{"id": "b", "text": "la cantine\n'
        b'{"id": "c"}\n'
        b"IHDR\x00\x00\x00\x0d\x08\x06\n"  # a PNG's bytes, valid UTF-8
        b"\xff\xfe\x00\x00\n"
        b"les poubelles debordent depuis que la collecte passe une fois par semaine\n"
    )
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(given)))
    assert main(["nlp", "classify"]) == 1
    out, err = capsys.readouterr()
    assert [json.loads(line)["id"] for line in out.splitlines()] == ["a", 7]
    expected = 'attendu : un objet {"id": …, "text": "…"} ou une ligne de texte'
    assert plain(err).splitlines() == [
        f"ligne 2 laissée : elle est vide ({expected})",
        "ligne 3 laissée : JSON illisible à la colonne 21 ; chaque ligne doit contenir un "
        f"objet JSON complet {{…}} ({expected})",
        f"ligne 4 laissée : le champ « text » manque ou est vide ({expected})",
        "ligne 5 laissée : caractères de contrôle : ce n’est pas du texte (fichier binaire ?) "
        f"({expected})",
        f"ligne 6 laissée : ce n’est pas du texte UTF-8 ({expected})",
        "2 lignes classées, 5 laissées.",
    ]


@pytest.mark.parametrize("content", [b"", b"\n\n  \n"], ids=["empty", "blank lines"])
def test_eval_on_a_file_without_texts_says_so_instead_of_nan(
    content: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:  # type: ignore[no-untyped-def]
    """Found in a trial: « recueil nlp eval vide.jsonl » printed « exactitude nan » and
    exited 0."""
    from bot.app.cli import main

    monkeypatch.setenv("RECUEIL_DATA_DIR", str(tmp_path))
    empty = tmp_path / "vide.jsonl"
    empty.write_bytes(content)
    with pytest.raises(SystemExit) as refused:
        main(["nlp", "eval", str(empty)])
    message = str(refused.value.code).replace("\u202f", " ").replace("\u00a0", " ")
    assert message.startswith(f"{empty} ne contient aucun texte étiqueté : rien à mesurer.")
    assert capsys.readouterr().out == ""


def test_eval_without_a_confident_text_shows_no_nan(tmp_path: Path) -> None:
    """One side of the threshold empty: a dash in the report, null in the JSON (NaN is not
    JSON)."""
    data = tmp_path / "un.jsonl"
    data.write_text(
        json.dumps(
            {"text": "pas de bus le soir pour rentrer du lycee", "label": "mobilite_transports"}
        )
        + "\n",
        encoding="utf-8",
    )
    result = evaluate_file(SpacyClassifier.load(), data, default_taxonomy())
    assert None in (result["confident"]["accuracy"], result["uncertain"]["accuracy"])
    assert "nan" not in format_evaluation(result).lower()
    json.loads(json.dumps(result, allow_nan=False))
