"""The triage on the command line, on every backend: the draft, the team's edits in the
spreadsheet (CSV and ODS), the dry run, the import, the re-import that changes nothing, each
error rejected with its line and nothing applied; imported contributions; the proposals export."""

from __future__ import annotations

import io
import json
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from cli_runner import in_process
from databases import drop_postgres_schema, fresh_postgres_url
from triage_seed import agent_of, seed

from bot.consultation.drafting import DRAFT_COLUMNS
from bot.consultation.export import CONTRIBUTION_COLUMNS, TRIAGE_COLUMNS
from bot.consultation.spreadsheet import read_table, write_table
from bot.consultation.triage_store import IMPORT_TRANSPORT, stored_triage
from storage.referential import default_referential
from storage.store import Store

Records = list[dict[str, str]]


@pytest.fixture
def recueil(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> Callable[..., tuple[int, str, str]]:  # type: ignore[no-untyped-def]
    """``recueil …`` in this process, on the test database; (exit code, stdout, stderr)."""
    monkeypatch.setenv("RECUEIL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("RECUEIL_DATABASE_URL", database_url)
    return in_process(capsys)


@pytest.fixture
def without_model(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The draft from the agents' own links only (the model takes seconds to load): the
    configured model directory holds no model."""
    monkeypatch.setenv("RECUEIL_MODEL_DIR", str(tmp_path / "no-model"))


def read(path: Path) -> Records:
    table = read_table(path.read_bytes())
    return [{c: row.get(c) for c in table.columns} for row in table.rows]


def write(path: Path, records: Records) -> None:
    path.write_bytes(write_table(DRAFT_COLUMNS, records, path.suffix.lstrip(".")))  # type: ignore[arg-type]


def groups(records: Records) -> dict[str, list[dict[str, str]]]:
    found: dict[str, list[dict[str, str]]] = {}
    for record in records:
        found.setdefault(record["proposition"], []).append(record)
    return found


def team_edits(records: Records) -> dict[str, Any]:
    """What a team does in the spreadsheet: a move, a merge, a rename with a description, a
    new proposal under a key of its own, a redirection, a rejection, one left as submitted."""
    by_key = groups(records)
    multi = [key for key, rows in by_key.items() if len(rows) >= 3]
    assert len(multi) >= 4, "the draft should have groups to edit"
    a, b, c, d = multi[:4]
    moved = by_key[a][-1]
    moved["proposition"] = b
    moved["titre_proposition"] = ""
    for row in by_key[c]:  # merge c into d
        row["proposition"], row["titre_proposition"] = d, ""
    by_key[d][0]["titre_proposition"] = "Un titre choisi par l’équipe"
    by_key[d][0]["description_proposition"] = "Ce que la proposition permettra."
    singles = [rows[0] for key, rows in by_key.items() if len(rows) == 1]
    if len(singles) < 5:  # the model grouped everything: take rows from a big group
        singles = by_key[multi[-1]][1:6]
        for row in singles:
            row["titre_proposition"] = ""
    new, redirected, rejected, left = singles[:2], singles[2], singles[3], singles[4]
    for row in new:
        row["proposition"], row["titre_proposition"] = "EQUIPE-1", ""
    new[0]["titre_proposition"] = "Une proposition de l’équipe"
    redirected["statut"] = "réorientée"
    redirected["message"] = "Ce service existe déjà : le guichet national."
    redirected["lien"] = "https://www.service-public.fr"
    rejected["statut"] = "Rejetée"
    rejected["message"] = "Hors du champ de la consultation."
    left["proposition"], left["titre_proposition"] = "", ""
    return {
        "moved": (moved["reference"], b),
        "merged": (c, d),
        "new": [row["reference"] for row in new],
        "redirected": redirected["reference"],
        "rejected": rejected["reference"],
        "left": left["reference"],
    }


def audit_count(store: Store) -> int:
    with store.engine.connect() as connection:
        return int(connection.execute(sa.text("SELECT count(*) FROM audit_log")).scalar_one())


def proposal_count(store: Store) -> int:
    with store.engine.connect() as connection:
        return int(connection.execute(sa.text("SELECT count(*) FROM proposal")).scalar_one())


def round_trip(recueil, store: Store, path: Path) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = recueil("proposals", "draft", "-o", str(path))
    assert code == 0 and "contributions soumises" in out
    records = read(path)
    assert len(records) == 300
    edits = team_edits(records)
    write(path, records)

    code, out, _ = recueil("proposals", "import", str(path), "--dry-run")
    assert code == 0, out
    assert "rien n’a été appliqué" in out
    assert "proposition EQUIPE-1 créée : « Une proposition de l’équipe »" in out
    assert f"{edits['redirected']} réorientée" in out
    assert f"{edits['rejected']} rejetée" in out
    assert proposal_count(store) == 0 and audit_count(store) == 0

    code, out, _ = recueil("proposals", "import", str(path))
    assert code == 0, out
    assert "appliqués" in out
    with store.transaction() as tx:
        state = stored_triage(tx).state
    # the reference the chat and the agents use, next to the file's key (a trial found
    # « proposition G-B-0001 créée » and nothing to type in « !fiche »)
    created = state.proposals["EQUIPE-1"].reference
    assert created is not None and created.startswith("P-")
    assert f"proposition EQUIPE-1 ({created}) créée : « Une proposition de l’équipe »" in out
    contributions = state.contributions
    moved, into = edits["moved"]
    assert contributions[moved].status == "regroupee"
    assert contributions[moved].proposal == into
    merged, target = edits["merged"]
    assert merged not in state.proposals  # never created: its rows went to the other
    assert state.proposals[target].title == "Un titre choisi par l’équipe"
    assert state.proposals[target].description == "Ce que la proposition permettra."
    assert {contributions[r].proposal for r in edits["new"]} == {"EQUIPE-1"}
    assert state.proposals["EQUIPE-1"].reference is not None
    redirected = contributions[edits["redirected"]]
    assert (redirected.status, redirected.link) == ("reorientee", "https://www.service-public.fr")
    assert contributions[edits["rejected"]].message == "Hors du champ de la consultation."
    left = contributions[edits["left"]]
    assert (left.status, left.proposal) == ("soumise", None)
    grouped = Counter(c.status for c in contributions.values())
    assert grouped["regroupee"] == 297
    # An administrator describes EQUIPE-1 in the chat (« !decrire ») after the draft was
    # made: the file, whose rows leave its description blank, does not erase it.
    with store.transaction() as tx:
        tx.describe_proposal("test:admin", created, "Écrite dans la discussion.")
    audited = audit_count(store)

    code, out, _ = recueil("proposals", "import", str(path))
    assert (code, out.strip()) == (
        0,
        "Aucun changement : le fichier dit ce qui est déjà enregistré.",
    )
    assert audit_count(store) == audited
    with store.transaction() as tx:
        kept = stored_triage(tx).state.proposals["EQUIPE-1"].description
    assert kept == "Écrite dans la discussion."

    # A second review of the same file: the proposal is called by its reference now, a
    # redirected contribution joins it, a rejected one is submitted again.
    reference = state.proposals["EQUIPE-1"].reference
    records = read(path)
    for row in records:
        if row["proposition"] == "EQUIPE-1":
            row["proposition"] = reference
        if row["reference"] == edits["redirected"]:
            row.update(proposition=reference, titre_proposition="", statut="", message="", lien="")
        if row["reference"] == edits["rejected"]:
            row.update(proposition="", titre_proposition="", statut="soumise", message="")
    write(path, records)
    code, out, err = recueil("proposals", "import", str(path))
    assert code == 0, err
    assert (
        f"{edits['redirected']} va dans la proposition EQUIPE-1" in out
        and "redevient soumise" in out
    )
    with store.transaction() as tx:
        after = stored_triage(tx).state.contributions
    assert after[edits["redirected"]].proposal == "EQUIPE-1"
    assert (after[edits["rejected"]].status, after[edits["rejected"]].message) == ("soumise", None)
    code, out, _ = recueil("proposals", "import", str(path))
    assert out.startswith("Aucun changement")


def test_draft_edit_dry_run_import_and_reimport_csv(recueil, store: Store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    seed(store, 300)
    round_trip(recueil, store, tmp_path / "ebauche.csv")


def test_draft_edit_dry_run_import_and_reimport_ods(  # type: ignore[no-untyped-def]
    recueil, store: Store, tmp_path: Path, without_model
) -> None:
    seed(store, 300)
    round_trip(recueil, store, tmp_path / "ebauche.ods")


def _mistakes() -> list[tuple[str, Callable[[Records], int], str]]:
    """Each kind of error the team can make: (name, edit returning its line, message)."""

    def unknown(records: Records) -> int:
        records[3]["reference"] = "B-9999"
        return 5

    def twice(records: Records) -> int:
        records[6]["reference"] = records[1]["reference"]
        return 8

    def empty_title(records: Records) -> int:
        for row in records:
            if row["proposition"] == records[0]["proposition"]:
                row["titre_proposition"] = ""
        return 2

    def long_title(records: Records) -> int:
        records[0]["titre_proposition"] = "x" * 121
        return 2

    def status(records: Records) -> int:
        records[4]["statut"] = "archivée"
        return 6

    return [
        ("unknown reference", unknown, "la contribution B-9999 n’existe pas"),
        ("in two proposals", twice, "figure déjà ligne 3"),
        ("empty title", empty_title, "n’a pas de titre"),
        ("title over the limit", long_title, "dépasse 120 caractères"),
        ("unknown status", status, "statut « archivée » inconnu"),
    ]


def test_an_empty_draft_and_empty_exports_count_in_the_singular(  # type: ignore[no-untyped-def]
    recueil, store: Store, tmp_path: Path, without_model
) -> None:
    """Regression: « 0 contributions soumises en 0 propositions suggérées »; French puts
    0 and 1 in the singular."""
    path = tmp_path / "ebauche.csv"
    code, out, _ = recueil("proposals", "draft", "-o", str(path))
    assert code == 0
    assert f"0 contribution soumise en 0 proposition suggérée, écrite dans {path}." in out
    code, _, err = recueil("export", "--what", "proposals", "-o", str(tmp_path / "p.csv"))
    assert code == 0 and "0 proposition exportée dans" in err
    code, _, err = recueil("export", "--what", "contributions", "-o", str(tmp_path / "c.csv"))
    assert code == 0 and "0 ligne exportée dans" in err
    code, _, err = recueil("invitations", "-o", str(tmp_path / "i.csv"))
    assert code == 0 and "0 code d’invitation exporté dans" in err


@pytest.mark.parametrize("name,mistake,message", _mistakes(), ids=[m[0] for m in _mistakes()])
def test_each_error_is_reported_with_its_line_and_nothing_is_applied(  # type: ignore[no-untyped-def]
    recueil, store: Store, tmp_path: Path, without_model, name, mistake, message
) -> None:
    seed(store, 40)
    path = tmp_path / "ebauche.csv"
    recueil("proposals", "draft", "-o", str(path))
    records = read(path)
    for row in records[1:6]:  # a group of six whose title is on line 2
        row["proposition"], row["titre_proposition"] = records[0]["proposition"], ""
    records[0]["titre_proposition"] = records[0]["titre_proposition"] or "Titre"
    line = mistake(records)
    records[10]["statut"] = "rejetee"
    records[10]["message"] = "Une raison"  # a valid change that must not be applied either
    write(path, records)
    for dry in ((), ("--dry-run",)):
        code, out, err = recueil("proposals", "import", str(path), *dry)
        assert code == 1
        assert "rien n’a été appliqué" in err
        assert f"ligne {line} : " in err and message in err, err
        assert out == ""
    assert proposal_count(store) == 0 and audit_count(store) == 0


def test_a_change_the_store_refuses_is_reported_on_its_line_and_rolls_back(  # type: ignore[no-untyped-def]
    recueil, store: Store, tmp_path: Path, without_model
) -> None:
    references = seed(store, 20)
    with store.transaction() as tx:
        kept = tx.create_proposal("test:admin", title="Retenue", contributions=references[:2])
        tx.set_proposal_status("test:admin", kept.reference, "publiee")
        tx.set_proposal_status("test:admin", kept.reference, "retenue")
    audited = audit_count(store)
    path = tmp_path / "ebauche.csv"
    recueil("proposals", "draft", "-o", str(path))
    records = read(path)
    records[0]["titre_proposition"] = records[0]["titre_proposition"] or "Titre"
    records[4]["proposition"], records[4]["titre_proposition"] = kept.reference, "Retenue"
    write(path, records)
    code, _, err = recueil("proposals", "import", str(path))
    assert code == 1
    assert "ligne 6 : La proposition P-001 est « retenue » et ne peut plus changer." in err
    assert proposal_count(store) == 1 and audit_count(store) == audited


IMPORTED = [
    {
        "type": "besoin",
        "titre": "Réserver les salles en ligne",
        "description": "Les habitants appellent la mairie pour réserver.",
        "collectivite_code": "03310",
        "thematique": "citoyennete",
        "usage": "reserver",
    },
    {
        "type": "Service",
        "titre": "Portail des associations",
        "description": "Un portail où les associations demandent une subvention.",
        "collectivite": "Brest",
    },
    {
        "type": "besoin",
        "titre": '=HYPERLINK("x")',
        "description": "Une formule dans un titre reste du texte.",
        "collectivite_code": "69266",
        "thematique": "Mobilité",
    },
]


@pytest.mark.parametrize("suffix", ["csv", "json", "ods"])
def test_imported_contributions_are_stored_once_as_an_agent_would_have(  # type: ignore[no-untyped-def]
    recueil, store: Store, tmp_path: Path, suffix: str
) -> None:
    seed(store, 3)  # B-0001…B-0003 exist: the import goes on from there
    path = tmp_path / f"courriels.{suffix}"
    columns = ("type", "titre", "description", "collectivite_code", "collectivite")
    columns += ("thematique", "usage")
    if suffix == "json":
        path.write_text(json.dumps(IMPORTED, ensure_ascii=False), encoding="utf-8")
    else:
        path.write_bytes(write_table(columns, IMPORTED, suffix))  # type: ignore[arg-type]
    code, out, _ = recueil("import", "contributions", str(path), "--dry-run")
    assert (code, out.splitlines()[0]) == (
        0,
        "3 contributions à importer (essai : rien n’a été enregistré).",
    )
    assert len(store.contributions()) == 3
    code, out, _ = recueil("import", "contributions", str(path))
    assert code == 0 and "3 contributions importées : de B-0004 à B-0005 et S-0001." in out, out
    views = {v.contribution.reference: v for v in store.contributions()}
    need, service, formula = views["B-0004"], views["S-0001"], views["B-0005"]
    assert need.author.transport == IMPORT_TRANSPORT and need.author.profile is None
    assert need.collectivite.name == "Vichy"
    assert (need.contribution.thematique, need.contribution.thematique_source) == (
        "citoyennete",
        "import",
    )
    assert need.contribution.answers["usage"] == "reserver"
    assert service.collectivite.name == "Brest" and service.contribution.kind == "service"
    assert service.contribution.thematique_source == "classifier"
    assert service.contribution.thematique in store_thematiques()
    assert formula.contribution.title == '=HYPERLINK("x")'
    assert formula.contribution.thematique == "mobilite_transports"
    code, out, _ = recueil("import", "contributions", str(path))
    assert code == 0 and "0 contribution importée." in out
    assert "3 lignes déjà importées" in out
    assert len(store.contributions()) == 6


def store_thematiques() -> set[str]:
    from config.taxonomy import default_taxonomy

    return set(default_taxonomy().ids)


@pytest.mark.parametrize(
    ("command", "name", "content", "expected"),
    [
        (
            ("import", "contributions"),
            "bad.json",
            b'{"type": "besoin", ',
            "JSON illisible, ligne 1 : nom de champ entre guillemets attendu",
        ),
        (
            ("proposals", "import"),
            "bad.ods",
            b"pas un tableur",
            "fichier ODS illisible : ce n’est pas un document OpenDocument",
        ),
    ],
)
def test_a_bad_import_file_is_explained_in_french_not_in_the_library_s_english(  # type: ignore[no-untyped-def]
    recueil, tmp_path: Path, command: tuple[str, str], name: str, content: bytes, expected: str
) -> None:
    """Found in a trial: « Expecting property name enclosed in double quotes », « Document
    format not managed by odfdo: <class '_io.BytesIO'> »."""
    path = tmp_path / name
    path.write_bytes(content)
    code, _, err = recueil(*command, str(path))
    assert code != 0 and f"{path} : {expected}" in err
    assert "Expecting" not in err and "odfdo" not in err


def zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def odt() -> bytes:
    from odfdo import Document

    buffer = io.BytesIO()
    Document("text").save(buffer)
    return buffer.getvalue()


UTF16 = "c’est un texte en UTF-16, que Recueil ne lit pas ; enregistrez-le en « CSV UTF-8 »"
WRONG_KINDS = {
    "png": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "c’est une image PNG, pas un tableau"),
    "pdf": (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "c’est un document PDF, pas un tableau"),
    "csv": ("reference;titre\nB-0001;Cantine\n".encode("utf-16"), UTF16),
    "txt": ("reference;titre\nB-0001;Cantine\n".encode("utf-16-le"), UTF16),  # no BOM
    "xlsx": (
        # the parts that make a workbook an Excel one (a file Excel writes has more)
        zipped({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"}),
        "c’est un classeur Excel (XLSX), que Recueil ne lit pas ; enregistrez-le en ODS ou en "
        "« CSV UTF-8 » depuis le tableur",
    ),
    "odt": (odt(), "c’est un document OpenDocument qui n’est pas un classeur (ODT ?)"),
}
IMPORTS = {
    "contributions": (
        ("import", "contributions"),
        "Rien n’a été importé.",
        "Attendu : un fichier CSV en UTF-8 (séparateur « ; » ou « , »), ODS ou JSON",
    ),
    "reviewed draft": (
        ("proposals", "import"),
        "Rien n’a été appliqué.",
        "Attendu : l’ébauche relue, en CSV UTF-8 (séparateur « ; » ou « , ») ou en ODS",
    ),
}


@pytest.mark.parametrize("kind", WRONG_KINDS)
@pytest.mark.parametrize("which", IMPORTS)
def test_a_file_of_the_wrong_kind_is_named_with_what_was_expected(  # type: ignore[no-untyped-def]
    recueil, store: Store, tmp_path: Path, which: str, kind: str
) -> None:
    """Found in a trial: a PNG, a PDF or a CSV saved in UTF-16 were answered « colonne(s)
    manquante(s) : type, titre… », as if the file were a table with other columns."""
    seed(store, 2)
    before = {v.contribution.reference: v.contribution.status for v in store.contributions()}
    command, nothing_done, expected = IMPORTS[which]
    content, what = WRONG_KINDS[kind]
    path = tmp_path / f"fichier.{kind}"
    path.write_bytes(content)
    code, out, err = recueil(*command, str(path))
    assert code == 1 and out == ""
    assert err.startswith(f"{path} : {what}")
    assert nothing_done in err and expected in err
    assert "manquante" not in err
    after = {v.contribution.reference: v.contribution.status for v in store.contributions()}
    assert after == before


def test_an_import_with_errors_stores_nothing_and_names_each_line(  # type: ignore[no-untyped-def]
    recueil, store: Store, tmp_path: Path
) -> None:
    rows = [
        *IMPORTED[:2],
        {**IMPORTED[0], "collectivite_code": "99999", "titre": "Autre"},
        {**IMPORTED[0], "type": "idée", "titre": ""},
        {**IMPORTED[0], "titre": "x", "description": "y"},
    ]
    path = tmp_path / "courriels.csv"
    path.write_bytes(write_table((*tuple(rows[0]), "collectivite"), rows, "csv"))  # type: ignore[arg-type]
    code, out, err = recueil("import", "contributions", str(path))
    assert code == 1 and out == ""
    assert "rien n’a été importé" in err
    assert "ligne 4 : aucune collectivité n’a le code « 99999 »" in err
    assert "ligne 5 : type « idée » inconnu" in err and "ligne 5 : le titre est vide" in err
    # what the conversation would refuse: a title or a description of one letter
    assert "ligne 6 : le titre est trop court (1 caractère ; 3 au moins" in err
    assert "ligne 6 : la description est trop courte (1 caractère ; 15 au moins" in err
    assert store.contributions() == []
    with store.engine.connect() as connection:
        agents = connection.execute(sa.text("SELECT count(*) FROM agent")).scalar_one()
    assert agents == 0  # not even the import author


@pytest.mark.parametrize("fmt", ["csv", "json", "ods"])
def test_the_proposals_export_lists_contributions_collectivites_and_populations(  # type: ignore[no-untyped-def]
    recueil, store: Store, tmp_path: Path, fmt: str
) -> None:
    references = seed(store, 6)  # agents 0, 1, 2; contributions 0 and 3 by the same one
    with store.transaction() as tx:
        first = tx.create_proposal(
            "test:admin",
            title="Salles",
            contributions=[references[0], references[3], references[1]],
        )
        tx.create_proposal("test:admin", title="Seule", contributions=[references[2]])
    path = tmp_path / f"propositions.{fmt}"
    code, _, err = recueil("export", "--what", "proposals", "--format", fmt, "-o", str(path))
    assert code == 0 and "2 propositions exportées" in err
    records = json.loads(path.read_text(encoding="utf-8")) if fmt == "json" else read(path)
    salles = next(r for r in records if r["reference"] == first.reference)
    views = {v.contribution.reference: v for v in store.contributions()}
    places = {views[r].collectivite.code: views[r].collectivite for r in references[:2]}
    population = sum(p.population or 0 for p in places.values())
    departements = sorted({p.departement for p in places.values() if p.departement})
    expected: dict[str, Any] = {
        "titre": "Salles",
        "nombre_contributions": 3,
        "nombre_collectivites": 2,
        "population": population,
        "contributions": [references[0], references[1], references[3]],
        "collectivites": [
            views[references[0]].collectivite.name,
            views[references[1]].collectivite.name,
        ],
        "departements": departements,
    }
    if fmt != "json":
        expected = {k: ", ".join(v) if isinstance(v, list) else str(v) for k, v in expected.items()}
    assert {k: salles[k] for k in expected} == expected


def triaged(store: Store) -> dict[str, str]:
    """Four contributions as triage leaves them: two grouped into P-001, one rejected, one
    redirected with a link; a fifth not triaged yet. Their references by what became of them."""
    grouped, other, rejected, redirected, untriaged = seed(store, 5)
    with store.transaction() as tx:
        proposal = tx.create_proposal(
            "test:admin", title="Réserver les salles en ligne", contributions=[grouped, other]
        )
        tx.reject_contribution("test:admin", rejected, "Hors du champ de la consultation.")
        tx.redirect_contribution(
            "test:admin",
            redirected,
            "Le guichet national le fait déjà.",
            "https://www.service-public.fr",
        )
    assert proposal.reference == "P-001"
    return {
        "grouped": grouped,
        "rejected": rejected,
        "redirected": redirected,
        "untriaged": untriaged,
    }


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_the_contributions_export_says_what_became_of_each_contribution(  # type: ignore[no-untyped-def]
    recueil, store: Store, tmp_path: Path, fmt: str
) -> None:
    """« Qu’est devenue cette contribution ? », asked of the spreadsheet by the agency: the
    proposal it joined, or its rejection or redirection with the administrator's message;
    nothing yet for one not triaged."""
    references = triaged(store)
    path = tmp_path / f"contributions.{fmt}"
    code, _, err = recueil("export", "--what", "contributions", "--format", fmt, "-o", str(path))
    assert code == 0 and "5 lignes exportées" in err
    records = json.loads(path.read_text(encoding="utf-8")) if fmt == "json" else read(path)
    columns = ("statut", *TRIAGE_COLUMNS)
    rows = {r["reference"]: tuple(r[c] or "" for c in columns) for r in records}
    # the spreadsheet shows statuses as they read, the JSON as they are stored
    grouped, rejected, redirected = (
        ("regroupee", "rejetee", "reorientee")
        if fmt == "json"
        else ("regroupée", "rejetée", "réorientée")
    )
    assert rows[references["grouped"]] == (
        grouped,
        "P-001",
        "Réserver les salles en ligne",
        "brouillon",
        "",
        "",
    )
    assert rows[references["rejected"]] == (
        rejected,
        "",
        "",
        "",
        "Hors du champ de la consultation.",
        "",
    )
    assert rows[references["redirected"]] == (
        redirected,
        "",
        "",
        "",
        "Le guichet national le fait déjà.",
        "https://www.service-public.fr",
    )
    assert rows[references["untriaged"]] == ("soumise", "", "", "", "", "")
    if fmt == "json":  # not triaged: nothing, rather than an empty text
        untriaged = next(r for r in records if r["reference"] == references["untriaged"])
        assert {untriaged[c] for c in TRIAGE_COLUMNS} == {None}


def test_an_export_with_the_triage_columns_imports_as_contributions_to_triage(  # type: ignore[no-untyped-def]
    recueil, store: Store, tmp_path: Path
) -> None:
    """The triage of the exported base is not carried over (its P-001 is not this base's),
    and the import says so rather than dropping it silently."""
    triaged(store)
    exported = [v.contribution.reference for v in store.contributions()]
    path = tmp_path / "contributions.csv"
    assert recueil("export", "--what", "contributions", "-o", str(path))[0] == 0
    code, out, _ = recueil("import", "contributions", str(path))
    assert code == 0, out
    assert "5 contributions importées" in out
    assert (
        "Le tri que le fichier indique (statut, proposition, message de l’administrateur) "
        "n’est pas repris pour 4 contributions : une contribution importée est soumise, "
        "à trier ici."
    ) in out
    assert "Colonnes ignorées" not in out
    imported = [v for v in store.contributions() if v.author.transport == IMPORT_TRANSPORT]
    assert [v.contribution.answers["reference_source"] for v in imported] == exported
    for view in imported:
        c = view.contribution
        assert (c.status, c.proposal_id, c.triage_message, c.triage_url) == (
            "soumise",
            None,
            None,
            None,
        )
        assert view.proposal is None
        assert not set(c.answers) & set(TRIAGE_COLUMNS)


def test_the_contributions_export_reads_every_proposal_in_one_statement(store: Store) -> None:
    """No query per contribution nor per proposal: the export joins the proposals."""
    from bot.consultation.export import contributions_csv
    from config.taxonomy import default_taxonomy

    references = seed(store, 12)
    with store.transaction() as tx:
        for n in range(4):
            tx.create_proposal(
                "test:admin", title=f"P{n}", contributions=references[2 * n : 2 * n + 2]
            )
        tx.reject_contribution("test:admin", references[8], "Hors champ.")
    selects: list[str] = []

    def count(conn, cursor, statement: str, *args: Any) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT"):
            selects.append(statement)

    sa.event.listen(store.engine, "before_cursor_execute", count)
    try:
        data = contributions_csv(
            store.contributions(), default_taxonomy(), ZoneInfo("Europe/Paris")
        )
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", count)
    assert len(selects) == 1, selects
    assert [r.get("reference_proposition") for r in read_table(data).rows][:9] == [
        *(f"P-00{n}" for n in (1, 1, 2, 2, 3, 3, 4, 4)),
        "",
    ]


def test_the_contributions_export_is_not_taken_for_a_reviewed_triage_file(  # type: ignore[no-untyped-def]
    recueil, store: Store, tmp_path: Path
) -> None:
    """Found while adding the triage columns: headed « proposition », the export passed for
    a triage file, and « recueil proposals import » given it by mistake cleared the
    description of P-001 (the export has no « description_proposition »)."""
    seed(store, 3)
    with store.transaction() as tx:
        tx.create_proposal(
            "test:admin", title="Salles", contributions=["B-0001"], description="Un agenda."
        )
    audited = audit_count(store)
    path = tmp_path / "contributions.csv"
    assert recueil("export", "--what", "contributions", "-o", str(path))[0] == 0
    code, _, err = recueil("proposals", "import", str(path))
    assert code == 1 and "colonne(s) manquante(s) : « proposition »" in err, err
    assert audit_count(store) == audited


def test_contributions_imported_during_a_trial_are_dated_by_its_clock(  # type: ignore[no-untyped-def]
    recueil, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found in a terminal trial: with RECUEIL_NOW set, the import dated the contributions
    by the real clock, so the export disagreed with the phase calendar of the trial."""
    monkeypatch.setenv("RECUEIL_NOW", "2027-01-10T10:00:00+01:00")
    path = tmp_path / "courriels.json"
    path.write_text(json.dumps(IMPORTED[:1], ensure_ascii=False), encoding="utf-8")
    code, out, _ = recueil("import", "contributions", str(path))
    assert code == 0, out
    output = tmp_path / "export.json"
    assert recueil("export", "--format", "json", "-o", str(output))[0] == 0
    [row] = json.loads(output.read_text(encoding="utf-8"))
    assert row["date"].startswith("2027-01-10T09:0"), row["date"]


def test_csv_exports_read_as_a_french_spreadsheet_expects_and_json_stays_for_programs(  # type: ignore[no-untyped-def]
    recueil, store: Store, tmp_path: Path
) -> None:
    """Found in a trial: the CSV had « 0.8 » (text, or a date, in a French tableur), dates in
    UTC (« 2026-11-10T10:00:06+00:00 » for 11:00 in Paris), and one status spelled
    « non_retenue » in the proposals, « non retenue » in the results. The CSV now has decimal
    commas, Paris time and statuses in words everywhere; the JSON dots, UTC and codes."""
    references = triaged(store)
    with store.transaction() as tx:
        tx.set_proposal_status("test:admin", "P-001", "publiee")
        tx.set_proposal_status("test:admin", "P-001", "non_retenue")

    def export(what: str, fmt: str) -> list[dict[str, Any]]:
        path = tmp_path / f"{what}.{fmt}"
        code, _, err = recueil("export", "--what", what, "--format", fmt, "-o", str(path))
        assert code == 0, err
        return json.loads(path.read_text(encoding="utf-8")) if fmt == "json" else read(path)

    as_csv = {r["reference"]: r for r in export("contributions", "csv")}
    as_json = {r["reference"]: r for r in export("contributions", "json")}
    grouped = references["grouped"]
    assert (as_csv[grouped]["thematique_confiance"], as_json[grouped]["thematique_confiance"]) == (
        "0,8",
        0.8,
    )
    stamp = datetime.fromisoformat(as_json[grouped]["date"])
    assert stamp.utcoffset() == timedelta(0)  # JSON: ISO 8601, UTC
    paris = stamp.astimezone(ZoneInfo("Europe/Paris")).strftime("%Y-%m-%d %H:%M:%S")
    assert as_csv[grouped]["date"] == paris
    assert as_csv[grouped]["statut_proposition"] == "non retenue"
    assert as_json[grouped]["statut_proposition"] == "non_retenue"
    redirected = references["redirected"]
    assert (as_csv[redirected]["statut"], as_json[redirected]["statut"]) == (
        "réorientée",
        "reorientee",
    )
    assert export("proposals", "csv")[0]["statut"] == "non retenue"
    assert export("resultats", "csv")[0]["decision"] == "non retenue"  # one spelling
    assert export("proposals", "json")[0]["statut"] == "non_retenue"
    assert export("resultats", "json")[0]["decision"] == "non_retenue"
    # the contributions import still reads the spreadsheet's file
    code, out, _ = recueil("import", "contributions", str(tmp_path / "contributions.csv"))
    assert code == 0 and "5 contributions importées" in out, out


def test_reimporting_an_older_reviewed_file_asks_before_undoing_the_chat_s_triage(  # type: ignore[no-untyped-def]
    recueil, store: Store, tmp_path: Path, without_model: None
) -> None:
    """Found in a trial: the reviewed file imported again after « !renommer » and « !rejeter »
    in the chat put the old title back and took the rejection away, at once and without a
    word. What the file would undo is now listed and nothing is applied without
    ``--appliquer``; ``--dry-run`` shows it too."""
    references = seed(store, 4)
    path = tmp_path / "relu.csv"
    assert recueil("proposals", "draft", "-o", str(path))[0] == 0
    assert recueil("proposals", "import", str(path))[0] == 0
    with store.transaction() as tx:
        state = stored_triage(tx).state
        proposal = next(p for p in state.proposals.values() if p.reference)
        tx.rename_proposal("test:admin", str(proposal.reference), "Titre choisi en discussion")
        key = state.contributions[references[0]].proposal
        grouped_in = str(state.proposals[str(key)].reference)
        tx.remove_from_proposal("test:admin", grouped_in, [references[0]])  # « !enlever »
        tx.reject_contribution("test:admin", references[0], "Hors du champ.")
    audited = audit_count(store)

    code, out, err = recueil("proposals", "import", str(path))
    assert code == 1, out
    assert "rien n’a été appliqué" in err and "déferait" in err
    assert "« Titre choisi en discussion » →" in err
    assert f"{references[0]} va dans la proposition" in err
    assert "--appliquer" in err
    assert audit_count(store) == audited  # nothing undone

    code, out, _ = recueil("proposals", "import", str(path), "--dry-run")
    assert code == 0 and "Attention" in out and "Titre choisi en discussion" in out

    code, out, err = recueil("proposals", "import", str(path), "--appliquer")
    assert code == 0, err
    with store.transaction() as tx:
        title = tx.proposal(str(proposal.reference)).proposal.title  # type: ignore[union-attr]
    assert title != "Titre choisi en discussion"  # the file wins when asked to


# -- a round trip: exported from one base, imported into another -----------------------------


@pytest.fixture
def source(database_url: str, tmp_path: Path) -> Iterator[str]:
    """Another base on the same backend, the one a round trip exports from; its URL."""
    sqlite = database_url.startswith("sqlite")
    url = f"sqlite:///{tmp_path / 'source.sqlite3'}" if sqlite else fresh_postgres_url()
    yield url
    if not sqlite:
        drop_postgres_schema(url)


def consultation(url: str) -> None:
    """Three weeks of contributions from five collectivités; some agents joined the need
    (or the service) another collectivité had described, one joined a need already joined."""
    store = Store.open(url)
    agents = [agent_of(store, f"agent{n}", n * 11) for n in range(5)]
    sent = [
        ("besoin", "Réserver les salles communales en ligne", None),
        ("service", "Portail de réservation des salles", None),
        ("besoin", "Paiement de la cantine par internet", None),
        ("besoin", "Réservation des salles municipales", 0),
        ("service", "Notre portail de réservation", 1),
        ("besoin", "Louer la salle des fêtes en ligne", 3),
        ("besoin", "Signaler un dépôt sauvage", None),
    ]
    ids: list[int] = []
    start = datetime(2026, 3, 2, 9, 15, tzinfo=UTC)
    for n, (kind, title, joined) in enumerate(sent):
        with store.transaction(now=start + timedelta(days=3 * n, minutes=7 * n)) as tx:
            contribution_id, _ = tx.add_contribution(
                agents[n % len(agents)],
                kind=kind,
                title=title,
                description=f"{title} : décrit par l’agent de la collectivité.",
                answers={"usage": "reserver"},
                thematique="citoyennete",
                confidence=0.8,
                thematique_source="agent",
                same_as_id=None if joined is None else ids[joined],
            )
        ids.append(contribution_id)
    store.close()


SEEN = (
    "reference",
    "type",
    "titre",
    "description",
    "thematique_libelle",
    "date",
    "collectivite",
    "collectivite_code",
    "meme_besoin_que",
    "usage",
)
"""What the contributions export shows of a contribution that a round trip must keep (not
its author: an imported contribution is the « import » agent's)."""


def exports(
    recueil, url: str, directory: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Records, Any]:  # type: ignore[no-untyped-def]
    """The contributions (CSV) and the needs with their collectivités (JSON) of ``url``."""
    directory.mkdir()
    monkeypatch.setenv("RECUEIL_DATABASE_URL", url)
    contributions, clusters = directory / "contributions.csv", directory / "clusters.json"
    assert recueil("export", "--what", "contributions", "-o", str(contributions))[0] == 0
    command = ("export", "--what", "clusters", "--format", "json", "-o", str(clusters))
    assert recueil(*command)[0] == 0
    return read(contributions), json.loads(clusters.read_text(encoding="utf-8"))


@pytest.mark.parametrize("order", ["as exported", "sorted in a spreadsheet"])
def test_an_export_imported_into_an_empty_base_gives_the_same_needs_dates_and_references(  # type: ignore[no-untyped-def]
    recueil,
    database_url: str,
    source: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    order: str,
) -> None:
    """Found exporting a base and importing it into a new one: every contribution that had
    joined another collectivité's need stood alone (the clusters export had a line more for
    each), every date was the import's, and a file sorted in a spreadsheet (newest first)
    numbered the contributions in its own order."""
    consultation(source)
    exported, clusters = exports(recueil, source, tmp_path / "source", monkeypatch)
    assert {r["meme_besoin_que"] for r in exported} == {"", "B-0001", "S-0001", "B-0003"}
    if order != "as exported":
        exported.sort(key=lambda r: str(r["date"]), reverse=True)
    path = tmp_path / "import.csv"
    path.write_bytes(write_table(CONTRIBUTION_COLUMNS, exported, "csv"))  # type: ignore[arg-type]

    monkeypatch.setenv("RECUEIL_DATABASE_URL", database_url)
    code, out, err = recueil("import", "contributions", str(path))
    assert code == 0, err
    imported, imported_clusters = exports(recueil, database_url, tmp_path / "copy", monkeypatch)

    assert imported_clusters == clusters
    by_reference = {r["reference"]: r for r in imported}
    assert [{c: by_reference[r["reference"]].get(c) for c in SEEN} for r in exported] == [
        {c: r[c] for c in SEEN} for r in exported
    ]
    assert "7 contributions importées : de B-0001 à B-0005 et de S-0001 à S-0002." in out
    assert "3 contributions rattachées au même besoin qu’une autre" in out


def test_an_export_imported_where_its_references_are_taken_keeps_its_needs(  # type: ignore[no-untyped-def]
    recueil,
    store: Store,
    database_url: str,
    source: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Into a base with contributions of its own, the file's references are taken: the
    imported contributions get new ones, and each joins the copy of the one it had joined."""
    seed(store, 3)  # B-0001 to B-0003
    consultation(source)
    exported, clusters = exports(recueil, source, tmp_path / "source", monkeypatch)
    path = tmp_path / "import.csv"
    path.write_bytes(write_table(CONTRIBUTION_COLUMNS, exported, "csv"))  # type: ignore[arg-type]

    monkeypatch.setenv("RECUEIL_DATABASE_URL", database_url)
    code, out, err = recueil("import", "contributions", str(path))
    assert code == 0, err
    new = {
        v.contribution.answers["reference_source"]: v.contribution.reference
        for v in store.contributions()
        if v.author.transport == IMPORT_TRANSPORT
    }
    _, imported_clusters = exports(recueil, database_url, tmp_path / "copy", monkeypatch)
    renamed = [
        {
            **c,
            "reference": new[c["reference"]],
            "contributions": [new[r] for r in c["contributions"]],
        }
        for c in clusters
    ]
    assert all(c in imported_clusters for c in renamed), imported_clusters
    assert "7 contributions importées : de B-0004 à B-0008 et de S-0001 à S-0002." in out
    assert "Les références du fichier sont déjà prises ici" in out
    code, out, _ = recueil("import", "contributions", str(path))
    assert code == 0 and "7 lignes déjà importées" in out


def test_an_import_past_b_9999_names_its_last_reference() -> None:
    """Found with benchmarks/import_contributions.py: 85,727 contributions were reported as
    « de B-0001 à B-9999 » (the references compared as text)."""
    from bot.app.triage_cli import _spans

    assert _spans(["B-9999", "B-10000", "S-0001"]) == "de B-9999 à B-10000 et S-0001"


def rows_of(count: int, first_commune: int) -> Records:
    """``count`` contributions of as many communes, every third joined to the one before."""
    communes = default_referential().all("commune")[first_commune : first_commune + count]
    return [
        {
            "reference": f"B-{first_commune + n + 1:04d}",
            "type": "besoin",
            "titre": f"Réserver les salles de {commune.name}",
            "description": "Les associations appellent la mairie pour réserver une salle.",
            "collectivite_code": commune.code,
            "thematique": "citoyennete",
            "date": f"2026-03-02T10:{n % 60:02d}:00+01:00",
            "meme_besoin_que": f"B-{first_commune + n:04d}" if n % 3 == 2 else "",
        }
        for n, commune in enumerate(communes)
    ]


def test_an_import_s_statements_do_not_grow_with_its_rows(  # type: ignore[no-untyped-def]
    recueil, tmp_path: Path
) -> None:
    """Found with benchmarks/import_contributions.py: a 50 MB file (85,000 rows) took 2 min
    on SQLite and 9 on PostgreSQL, three statements a row (a reference, its counter, the
    row) and two a collectivité. Rows, collectivités and links now go in batches: ten times
    more rows, no more statements."""
    statements: list[str] = []

    def count(conn, cursor, statement: str, *args: Any) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    counts = []
    for number, (size, first) in enumerate([(40, 0), (400, 40)]):
        path = tmp_path / f"import{number}.csv"
        path.write_bytes(write_table(CONTRIBUTION_COLUMNS, rows_of(size, first), "csv"))  # type: ignore[arg-type]
        statements.clear()
        sa.event.listen(sa.engine.Engine, "before_cursor_execute", count)
        try:
            code, out, err = recueil("import", "contributions", str(path))
        finally:
            sa.event.remove(sa.engine.Engine, "before_cursor_execute", count)
        assert code == 0 and f"{size} contributions importées" in out, err
        counts.append(len(statements))
    assert counts[1] <= counts[0], counts
