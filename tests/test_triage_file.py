"""Draft → edit → dry-run plan → apply → re-import, in CSV and ODS; every error by its line."""

from __future__ import annotations

import pytest
from contribution_views import view

from bot.consultation.drafting import DRAFT_COLUMNS, draft, draft_records
from bot.consultation.spreadsheet import Table, read_table, write_table
from bot.consultation.triage_file import (
    TITLE_MAX,
    Change,
    ContributionState,
    TriageFileError,
    TriageState,
    apply_plan,
    describe,
    parse_triage,
    plan_changes,
)
from config.taxonomy import default_taxonomy

FORMATS = ["csv", "ods"]


def views() -> list:  # type: ignore[type-arg]
    """Groups by the agents' links: B-1 ← B-2, B-3; B-4 ← B-5; S-6 alone; B-7 alone."""
    return [
        view(1, "besoin", "Réserver la salle des fêtes"),
        view(2, "besoin", "Salle polyvalente", same_as=1),
        view(3, "besoin", "Location de salles", same_as=1),
        view(4, "besoin", "Signaler un nid-de-poule"),
        view(5, "besoin", "Lampadaire en panne", same_as=4),
        view(6, "service", "Appli de covoiturage"),
        view(7, "besoin", "Archives humides"),
    ]


def initial_state() -> TriageState:
    return TriageState(
        {
            v.contribution.reference: ContributionState(
                v.contribution.reference, v.contribution.kind
            )
            for v in views()
        }
    )


def draft_file(fmt: str) -> bytes:
    records = draft_records(draft(views(), None), default_taxonomy())
    return write_table(DRAFT_COLUMNS, records, fmt)  # type: ignore[arg-type]


def edited(data: bytes, fmt: str, edit) -> bytes:  # type: ignore[no-untyped-def]
    """What the team does in the spreadsheet: change cells of rows, found by reference."""
    table = read_table(data)
    records = [dict(row.cells) for row in table.rows]
    edit({record["reference"]: record for record in records})
    return write_table(table.columns, records, fmt)  # type: ignore[arg-type]


def run(data: bytes, state: TriageState) -> list[Change]:
    return plan_changes(parse_triage(read_table(data), state), state)


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_draft_imports_then_reimports_as_a_no_op(fmt: str) -> None:
    data, state = draft_file(fmt), initial_state()
    plan = parse_triage(read_table(data), state)
    changes = plan_changes(plan, state)
    created = [c for c in changes if c.action == "creee"]
    assert [(c.subject, c.after) for c in created] == [
        ("G-B-0001", "Réserver la salle des fêtes"),
        ("G-B-0004", "Signaler un nid-de-poule"),
        ("G-B-0007", "Archives humides"),
        ("G-S-0006", "Appli de covoiturage"),
    ]
    assert len([c for c in changes if c.action == "deplacee"]) == 7
    after = apply_plan(plan, state)
    assert run(data, after) == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_team_s_edits_become_changes_and_then_nothing(fmt: str) -> None:
    state = apply_plan(parse_triage(read_table(draft_file(fmt)), initial_state()), initial_state())

    def edit(rows: dict[str, dict[str, str]]) -> None:
        rows["B-0003"]["proposition"] = "G-B-0004"  # moved
        rows["B-0001"]["titre_proposition"] = "Réserver une salle municipale"  # renamed
        rows["B-0001"]["description_proposition"] = 'En ligne ; avec "acompte"\net contrat'
        rows["B-0007"]["proposition"] = "G-B-0004"  # merged into another group
        rows["B-0007"]["titre_proposition"] = ""
        rows["S-0006"]["statut"] = "Réorientée"  # redirected, accents and capitals ignored
        rows["S-0006"]["message"] = "Voyez le programme national de covoiturage."
        rows["S-0006"]["lien"] = "https://www.example.gouv.fr/covoiturage"
        rows["B-0005"]["statut"] = "rejetee"
        rows["B-0005"]["message"] = "=hors du champ de la consultation"

    data = edited(draft_file(fmt), fmt, edit)
    changes = run(data, state)
    assert [describe(c) for c in changes] == [
        "ligne 2 : proposition G-B-0001 renommée : « Réserver la salle des fêtes » → "
        "« Réserver une salle municipale »",
        "ligne 2 : description de la proposition G-B-0001 modifiée",
        f"ligne {line(data, 'B-0003')} : B-0003 va dans la proposition G-B-0004 (était : G-B-0001)",
        f"ligne {line(data, 'B-0007')} : B-0007 va dans la proposition G-B-0004 (était : G-B-0007)",
        f"ligne {line(data, 'S-0006')} : S-0006 réorientée : « Voyez le programme national de "
        "covoiturage. »",
        f"ligne {line(data, 'B-0005')} : B-0005 rejetée : « =hors du champ de la consultation »",
        "la proposition G-B-0007 n’a plus de contribution",
        "la proposition G-S-0006 n’a plus de contribution",
    ]
    plan = parse_triage(read_table(data), state)
    [redirection] = plan.redirections
    assert redirection.link == "https://www.example.gouv.fr/covoiturage"
    merged = next(p for p in plan.proposals if p.key == "G-B-0004")
    assert set(merged.members) == {"B-0003", "B-0004", "B-0007"}
    assert merged.title == "Signaler un nid-de-poule"  # B-0005 carried it and was rejected
    after = apply_plan(plan, state)
    assert run(data, after) == []


def line(data: bytes, reference: str) -> int:
    return next(r.line for r in read_table(data).rows if r.get("reference") == reference)


def test_a_stored_proposal_is_found_by_its_reference_too() -> None:
    state = apply_plan(
        parse_triage(read_table(draft_file("csv")), initial_state()), initial_state()
    )
    proposals = dict(state.proposals)
    stored = proposals["G-B-0004"]
    proposals["G-B-0004"] = type(stored)(stored.key, stored.title, stored.description, "P-002")
    state = TriageState(state.contributions, proposals)

    def edit(rows: dict[str, dict[str, str]]) -> None:
        rows["B-0004"]["proposition"] = rows["B-0005"]["proposition"] = "P-002"

    assert run(edited(draft_file("csv"), "csv", edit), state) == []


ERRORS = [
    (
        "unknown reference",
        {"B-0002": {"reference": "B-9999"}},
        "la contribution B-9999 n’existe pas",
    ),
    (
        "a contribution twice",
        {"B-0002": {"reference": "B-0001"}},
        "la contribution B-0001 figure déjà ligne 2",
    ),
    (
        "empty title",
        {"B-0004": {"titre_proposition": ""}},
        "la proposition G-B-0004 n’a pas de titre",
    ),
    (
        "title too long",
        {"B-0004": {"titre_proposition": "x" * (TITLE_MAX + 1)}},
        f"dépasse {TITLE_MAX} caractères ({TITLE_MAX + 1})",
    ),
    ("unknown status", {"B-0004": {"statut": "fusionnee"}}, "statut « fusionnee » inconnu"),
    ("redirected without a message", {"B-0004": {"statut": "reorientee"}}, "sans message"),
    ("rejected without a reason", {"B-0004": {"statut": "rejetee"}}, "rejetée sans raison"),
    (
        "two titles",
        {"B-0005": {"titre_proposition": "Autre"}},
        "la proposition G-B-0004 a un autre titre ligne",
    ),
    ("not a link", {"B-0004": {"statut": "reorientee", "message": "m", "lien": "ftp://x"}}, "lien"),
]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("name", "changes", "expected"), ERRORS, ids=[e[0] for e in ERRORS])
def test_each_error_is_refused_with_its_line(
    fmt: str, name: str, changes: dict[str, dict[str, str]], expected: str
) -> None:
    original = read_table(draft_file(fmt))
    target = next(iter(changes))
    target_line = next(r.line for r in original.rows if r.get("reference") == target)

    def edit(rows: dict[str, dict[str, str]]) -> None:
        for reference, cells in changes.items():
            rows[reference].update(cells)

    with pytest.raises(TriageFileError) as caught:
        parse_triage(read_table(edited(draft_file(fmt), fmt, edit)), initial_state())
    assert len(caught.value.errors) == 1, caught.value.errors
    [error] = caught.value.errors
    assert expected in error.message, error.message
    assert error.line == target_line, (name, error.line, target_line)
    assert str(error).startswith(f"ligne {error.line} : ")


@pytest.mark.parametrize(
    ("column", "words"),
    [
        ("titre_proposition", ("un autre titre", "recopiez-le")),
        ("description_proposition", ("une autre description", "recopiez-la")),
    ],
)
def test_two_values_for_one_proposal_are_named_with_the_right_agreement(
    column: str, words: tuple[str, str]
) -> None:
    """Found in a trial: « a un autre description … recopiez-le »."""
    data = draft_file("csv")
    original = read_table(data)
    first = next(r.line for r in original.rows if r.get("reference") == "B-0004")

    def edit(rows: dict[str, dict[str, str]]) -> None:
        rows["B-0004"][column] = "valeur A"
        rows["B-0005"][column] = "valeur B"

    with pytest.raises(TriageFileError) as caught:
        parse_triage(read_table(edited(data, "csv", edit)), initial_state())
    [error] = caught.value.errors
    other, again = words
    assert error.message == (
        f"la proposition G-B-0004 a {other} ligne {first} (« valeur A ») ; "
        f"laissez la cellule vide ou {again}"
    )


def test_all_errors_are_reported_at_once_and_a_missing_column_first() -> None:
    def edit(rows: dict[str, dict[str, str]]) -> None:
        rows["B-0001"]["statut"] = "?"
        rows["B-0007"]["reference"] = "B-0404"

    with pytest.raises(TriageFileError) as caught:
        parse_triage(read_table(edited(draft_file("csv"), "csv", edit)), initial_state())
    assert len(caught.value.errors) == 2
    assert "ligne 2 :" in str(caught.value)
    with pytest.raises(TriageFileError, match="ligne 1 : colonne"):
        parse_triage(Table(("reference",), ()), initial_state())


def test_the_import_report_writes_statuses_as_they_read() -> None:
    """Found in a trial: « B-0006 va dans la proposition G-B-0006 (était : reorientee) »,
    the stored code, where the exports and the chat say « réorientée »."""
    moved = Change("deplacee", "B-0006", before="reorientee", after="G-B-0006", line=4)
    reopened = Change("remise", "B-0007", before="rejetee", line=5)
    assert (
        describe(moved) == "ligne 4 : B-0006 va dans la proposition G-B-0006 (était : réorientée)"
    )
    assert describe(reopened) == "ligne 5 : B-0007 redevient soumise (était : rejetée)"
