"""Contributions from another platform: the export's columns, checked line by line."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.consultation.export import CONTRIBUTION_COLUMNS
from bot.consultation.importing import (
    ImportFileError,
    import_contributions,
    read_rows,
    resolve_collectivite,
)
from bot.consultation.spreadsheet import write_table
from config.taxonomy import default_taxonomy
from storage.referential import Referential, default_referential


@pytest.fixture(scope="module")
def referential() -> Referential:
    return default_referential()


GOOD = [
    {  # by INSEE code, as our own export writes it
        "reference": "B-0042",
        "type": "besoin",
        "titre": "Réserver la salle des fêtes",
        "description": "Les associations appellent ; « =1+1 » n’est pas une formule.\nDeux lignes.",
        "thematique": "patrimoine_equipements",
        "collectivite": "Ambérieu-en-Bugey",
        "collectivite_type": "commune",
        "collectivite_code": "01004",
        "usage": "reserver",
        "adresse_web": "https://example.org",
        "statut": "regroupee",
    },
    {  # an EPCI by SIREN, the thématique by its label, no usage
        "type": "Service",
        "titre": "Signalements en ligne",
        "description": "Une application de signalement.",
        "thematique": "Citoyenneté",
        "collectivite_code": "200040715",
    },
    {  # by name and département, no thématique
        "type": "besoin",
        "titre": "Covoiturage",
        "description": "Pas de bus le soir.",
        "collectivite": "ste colombe",
        "departement": "69",
    },
]


def csv_of(rows: list[dict[str, str]], fmt: str = "csv") -> bytes:
    return write_table(CONTRIBUTION_COLUMNS, rows, fmt)  # type: ignore[arg-type]


def test_a_file_exported_before_the_answer_columns_were_french_still_imports(
    referential: Referential,
) -> None:
    older = {k: v for k, v in GOOD[0].items() if k != "adresse_web"}
    older |= {"url": "https://example.org", "open_source": "oui"}
    data = json.dumps([older], ensure_ascii=False).encode()
    result = import_contributions(read_rows(data, "x.json"), referential, default_taxonomy())
    (first,) = result.contributions
    expected = {"usage": "reserver", "url": "https://example.org", "open_source": "oui"}
    assert first.answers == expected
    assert result.ignored_columns == ()


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_the_triage_a_file_carries_is_left_and_its_lines_named(
    fmt: str, referential: Referential
) -> None:
    """A file of our export says what triage made of each contribution (its P-001 is
    another base's): the contributions are imported to triage here, the lines are named."""
    rows = [
        {
            **GOOD[0],
            "reference_proposition": "P-001",
            "titre_proposition": "Réserver les salles",
            "statut_proposition": "publiee",
        },
        {**GOOD[1], "statut": "soumise"},
        {
            **GOOD[2],
            "statut": "rejetee",
            "message_administrateur": "Hors du champ de la consultation.",
        },
    ]
    data = json.dumps(rows, ensure_ascii=False).encode() if fmt == "json" else csv_of(rows)
    result = import_contributions(read_rows(data, f"x.{fmt}"), referential, default_taxonomy())
    assert len(result.contributions) == 3
    assert result.triage_left == ((1, 3) if fmt == "json" else (2, 4))  # elements, or lines
    assert result.ignored_columns == ()
    for contribution in result.contributions:
        assert not set(contribution.answers) & {"reference_proposition", "statut"}


@pytest.mark.parametrize("fmt", ["csv", "ods", "json", "jsonl"])
def test_the_export_s_columns_are_imported(fmt: str, referential: Referential) -> None:
    if fmt == "json":
        data = json.dumps(GOOD, ensure_ascii=False).encode()
    elif fmt == "jsonl":
        data = "\n".join(json.dumps(row, ensure_ascii=False) for row in GOOD).encode()
    else:
        data = csv_of(GOOD, fmt)
    result = import_contributions(read_rows(data, f"x.{fmt}"), referential, default_taxonomy())
    first, second, third = result.contributions
    assert (first.kind, first.collectivite.name, first.thematique) == (
        "besoin",
        "Ambérieu-en-Bugey",
        "patrimoine_equipements",
    )
    assert first.description == GOOD[0]["description"]
    assert first.answers == {"usage": "reserver", "url": "https://example.org"}
    assert first.source_reference == "B-0042" and first.thematique_source == "import"
    assert (second.kind, second.collectivite.kind, second.thematique) == (
        "service",
        "epci",
        "citoyennete",
    )
    assert (third.collectivite.code, third.thematique, third.thematique_source) == (
        "69189",
        None,
        None,
    )
    assert len({c.key for c in result.contributions}) == 3


def test_importing_twice_adds_nothing_and_repeated_rows_are_skipped(
    referential: Referential,
) -> None:
    taxonomy = default_taxonomy()
    first = import_contributions(read_rows(csv_of(GOOD), "a.csv"), referential, taxonomy)
    stored = {c.key for c in first.contributions}
    again = import_contributions(read_rows(csv_of(GOOD), "a.csv"), referential, taxonomy, stored)
    assert again.contributions == () and again.already_imported == (2, 3, 4)
    # the same row with other spaces and capitals, and in another order, is the same row
    repeated = [GOOD[1], {**GOOD[0], "titre": "  réserver la salle  des fêtes"}]
    result = import_contributions(
        read_rows(csv_of(GOOD + repeated), "b.csv"), referential, taxonomy
    )
    assert len(result.contributions) == 3 and result.duplicates == ((5, 3), (6, 2))


@pytest.mark.parametrize("apostrophe", ["'", "’"])
def test_a_thematique_label_is_found_whatever_its_apostrophe(
    apostrophe: str, referential: Referential
) -> None:
    """The label is written « Accès à l’emploi »; a spreadsheet, or a file made with the label
    as it was, has « l'emploi »: both designate the thématique."""
    for label in (
        f"Éducation / Formation / Accès à l{apostrophe}emploi",
        f"accès à l{apostrophe}emploi",
    ):
        rows = [{**GOOD[1], "thematique": label}]
        result = import_contributions(
            read_rows(csv_of(rows), "x.csv"), referential, default_taxonomy()
        )
        assert [c.thematique for c in result.contributions] == ["education_emploi"], label


def test_a_missing_thematique_is_classified_when_a_classifier_is_given(
    referential: Referential,
) -> None:
    """The rows without a thématique are classified together, once the file is checked (a
    model classifies a batch faster than text by text: benchmarks/import_contributions.py)."""
    batches: list[list[str]] = []

    def classify(texts: Sequence[str]) -> list[tuple[str, float]]:
        batches.append(list(texts))
        return [("mobilite_transports", 0.8)] * len(texts)

    rows = [*GOOD, {**GOOD[2], "titre": "Transport à la demande", "thematique": ""}]
    result = import_contributions(
        read_rows(csv_of(rows), "a.csv"), referential, default_taxonomy(), classify=classify
    )
    assert batches == [
        ["Covoiturage\nPas de bus le soir.", "Transport à la demande\nPas de bus le soir."]
    ]
    third = result.contributions[2]
    assert (third.thematique, third.thematique_source, third.thematique_confidence) == (
        "mobilite_transports",
        "classifier",
        0.8,
    )
    with pytest.raises(ImportFileError):  # a file with an error: nothing to classify
        bad = [*rows, {**GOOD[0], "type": "idee"}]
        import_contributions(
            read_rows(csv_of(bad), "a.csv"), referential, default_taxonomy(), classify=classify
        )
    assert len(batches) == 1


BAD = [
    ({"type": "idee"}, "type « idee » inconnu"),
    ({"titre": ""}, "le titre est vide"),
    ({"titre": "x" * 121}, "le titre dépasse 120 caractères (121)"),
    ({"titre": "x"}, "le titre est trop court (1 caractère ; 3 au moins, comme dans la conv"),
    ({"titre": "…"}, "le titre n’a ni lettre ni chiffre"),
    ({"titre": "<b></b>"}, "le titre ne contient que des balises, sans texte"),
    ({"description": " "}, "la description est vide"),
    ({"description": "Trop court."}, "la description est trop courte (11 caractères ; 15 au"),
    ({"description": "x" * 4001}, "la description dépasse 4\u202f000 caractères (4\u202f001)"),
    ({"description": "Un texte \x07 avec une cloche"}, "la description contient des caractères"),
    ({"collectivite_code": "99999"}, "aucune collectivité n’a le code « 99999 »"),
    ({"collectivite_code": "", "collectivite": "Sainte-Colombe"}, "désigne"),
    ({"collectivite_code": "", "collectivite": "Qwertyville"}, "introuvable"),
    ({"collectivite_code": "", "collectivite": ""}, "la collectivité manque"),
    ({"collectivite_type": "canton"}, "type de collectivité « canton » inconnu"),
    ({"thematique": "astronomie"}, "thématique « astronomie » inconnue"),
    ({"usage": "danser"}, "usage « danser » inconnu"),
    ({"date": "hier"}, "date « hier » illisible (attendue : 2026-03-02T10:00:00+01:00"),
    ({"date": "31/02/2026"}, "date « 31/02/2026 » illisible"),
    ({"meme_besoin_que": "B-0099"}, "meme_besoin_que : aucune ligne du fichier n’a la référence"),
    ({"meme_besoin_que": "b-0042"}, "meme_besoin_que : la ligne désigne sa propre référence"),
]


@pytest.mark.parametrize(("change", "expected"), BAD, ids=[b[1][:30] for b in BAD])
def test_each_error_names_its_line(
    change: dict[str, str], expected: str, referential: Referential
) -> None:
    rows = [GOOD[1], {**GOOD[0], **change}, GOOD[2]]
    with pytest.raises(ImportFileError) as caught:
        import_contributions(read_rows(csv_of(rows), "a.csv"), referential, default_taxonomy())
    [error] = caught.value.errors
    assert error.line == 3 and expected in error.message, str(error)
    assert str(error).startswith("ligne 3 : ")


def test_json_errors_name_the_element(referential: Referential) -> None:
    data = json.dumps([GOOD[0], {**GOOD[1], "type": None}]).encode()
    with pytest.raises(ImportFileError, match="élément 2 : le type est vide"):
        import_contributions(read_rows(data, "a.json"), referential, default_taxonomy())


def test_a_file_without_the_needed_columns_is_refused(referential: Referential) -> None:
    data = write_table(("titre",), [{"titre": "x"}], "csv")
    with pytest.raises(ImportFileError, match=r"ligne 1 : colonne.*type.*collectivite"):
        import_contributions(read_rows(data, "a.csv"), referential, default_taxonomy())


def test_codes_and_names_resolve(referential: Referential) -> None:
    assert resolve_collectivite(referential, code="2A004").name == "Ajaccio"  # type: ignore[union-attr]
    assert resolve_collectivite(referential, code="21690189200013").code == "69189"  # type: ignore[union-attr]
    assert resolve_collectivite(referential, code="69", kind="departement").name == "Rhône"  # type: ignore[union-attr]
    assert resolve_collectivite(referential, code="84", kind="région").kind == "region"  # type: ignore[union-attr]
    paris = resolve_collectivite(referential, name="Paris")
    assert isinstance(paris, str) and "désigne 2" in paris
    assert resolve_collectivite(referential, name="Paris", kind="commune").code == "75056"  # type: ignore[union-attr]
    assert (
        resolve_collectivite(referential, name="Sainte-Colombe", departement="Rhône").code
        == "69189"
    )  # type: ignore[union-attr]


def test_dates_are_read_as_exported_or_as_a_spreadsheet_shows_them(
    referential: Referential,
) -> None:
    """The date the contribution was sent is kept; a date without a zone is the
    consultation's time (Paris: UTC+1 in March)."""
    paris = ZoneInfo("Europe/Paris")
    cells = ["2026-03-02T10:00:00+00:00", "2026-03-02 11:00", "02/03/2026 11:00", ""]
    rows = [{**GOOD[0], "titre": f"Salle {n}", "date": cell} for n, cell in enumerate(cells)]
    result = import_contributions(
        read_rows(csv_of(rows), "a.csv"), referential, default_taxonomy(), zone=paris
    )
    dates = [c.created_at for c in result.contributions]
    assert dates[:3] == [datetime(2026, 3, 2, 10, tzinfo=UTC)] * 3
    assert dates[3] is None  # stored at the import's time


def test_a_date_to_come_is_refused(referential: Referential) -> None:
    rows = [{**GOOD[0], "date": "2062-03-02"}]
    with pytest.raises(ImportFileError, match="ligne 2 : la date « 2062-03-02 » est à venir"):
        import_contributions(
            read_rows(csv_of(rows), "a.csv"),
            referential,
            default_taxonomy(),
            now=datetime(2026, 12, 1, tzinfo=UTC),
        )


LINKED = [
    {**GOOD[0], "reference": "B-0007", "meme_besoin_que": "B-0003"},  # joins a later row
    {**GOOD[1], "reference": "S-0001"},
    {**GOOD[2], "reference": "B-0003"},
]


def test_a_row_that_joined_another_keeps_the_link_and_its_reference(
    referential: Referential,
) -> None:
    result = import_contributions(
        read_rows(csv_of(LINKED), "a.csv"), referential, default_taxonomy()
    )
    joining, _, joined = result.contributions
    assert joining.same_as == joined.key and joined.same_as is None
    assert [c.reference for c in result.contributions] == ["B-0007", "S-0001", "B-0003"]
    # a reference that is not one of ours for its kind is not kept (numbered here)
    other = [{**GOOD[1], "reference": "B-0002"}, {**GOOD[2], "reference": "42"}]
    result = import_contributions(
        read_rows(csv_of(other), "a.csv"), referential, default_taxonomy()
    )
    assert [c.reference for c in result.contributions] == [None, None]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {0: {"meme_besoin_que": "S-0001"}},
            "ligne 2 : meme_besoin_que : « S-0001 » est un service (ligne 3), "
            "cette ligne un besoin",
        ),
        (
            {2: {"meme_besoin_que": "B-0007"}},
            "ligne 4 : meme_besoin_que : « B-0007 » mène à une boucle qui revient à cette ligne",
        ),
        (
            {1: {"reference": "B-0003"}, 0: {"meme_besoin_que": "B-0003"}},
            "ligne 2 : meme_besoin_que : plusieurs lignes ont la référence « B-0003 » (3, 4)",
        ),
    ],
)
def test_a_same_need_link_that_cannot_hold_is_refused(
    change: dict[int, dict[str, str]], expected: str, referential: Referential
) -> None:
    rows = [{**row, **change.get(n, {})} for n, row in enumerate(LINKED)]
    with pytest.raises(ImportFileError) as caught:
        import_contributions(read_rows(csv_of(rows), "a.csv"), referential, default_taxonomy())
    assert expected in [str(error) for error in caught.value.errors], caught.value.errors


def test_a_row_that_joined_a_row_with_errors_is_not_blamed_for_them(
    referential: Referential,
) -> None:
    rows = [LINKED[0], LINKED[1], {**LINKED[2], "collectivite_code": "99999"}]
    with pytest.raises(ImportFileError) as caught:
        import_contributions(read_rows(csv_of(rows), "a.csv"), referential, default_taxonomy())
    assert [e.line for e in caught.value.errors] == [4]
