"""The triage on the command line: ``recueil import contributions``, ``recueil proposals
draft`` and ``recueil proposals import``, and ``recueil export --what proposals``.

Each reads or writes in one transaction: a file with an error changes nothing, and its
errors are printed in French, each with its line.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.app.failures import in_french
from bot.app.output_files import add_overwrite_option, check_new, write_file
from bot.app.services import model_path, open_store
from bot.consultation.drafting import DRAFT_COLUMNS, draft, draft_records
from bot.consultation.export import for_spreadsheet, to_json
from bot.consultation.importing import (
    ImportFileError,
    ImportResult,
    import_contributions,
    read_rows,
)
from bot.consultation.learning import grouping_figures
from bot.consultation.proposal_export import PROPOSAL_COLUMNS, flat, proposal_records
from bot.consultation.spreadsheet import (
    SpreadsheetError,
    format_of,
    read_table,
    refuse_other_kinds,
    write_table,
)
from bot.consultation.triage_file import (
    Change,
    LineError,
    TriageFileError,
    describe,
    parse_triage,
    plan_changes,
)
from bot.consultation.triage_store import (
    Stored,
    apply_triage,
    changed_since,
    import_author,
    store_imported,
    stored_triage,
)
from config.catalogue import Catalogue, plural
from config.settings import Settings
from config.taxonomy import Taxonomy
from config.typography import decimal, french
from nlp.classifier import Classifier
from storage.referential import default_referential

EXIT_REFUSED = 1
ACTION_LABELS = {
    "creee": "propositions créées",
    "renommee": "renommées",
    "decrite": "décrites",
    "deplacee": "contributions regroupées ou déplacées",
    "reorientee": "réorientées",
    "rejetee": "rejetées",
    "remise": "remises à l’état soumis",
    "videe": "propositions vidées",
}


def add_commands(commands: Any) -> None:
    """``import`` and ``proposals`` under the ``recueil`` command."""
    importing = commands.add_parser("import", help="importer des contributions venues d’ailleurs")
    what = importing.add_subparsers(dest="what", required=True, metavar="QUOI")
    contributions = what.add_parser(
        "contributions",
        help="des contributions reçues par courriel, formulaire ou autre plateforme "
        "(CSV, ODS ou JSON, colonnes de « recueil export »)",
    )
    contributions.add_argument(
        "file", type=Path, metavar="FICHIER", help="le fichier à importer (CSV, ODS ou JSON)"
    )
    contributions.add_argument(
        "--dry-run", action="store_true", help="vérifier et compter sans rien enregistrer"
    )
    contributions.set_defaults(handler=cmd_import_contributions)

    proposals = commands.add_parser(
        "proposals", help="propositions : ébauche à relire, import du fichier relu"
    )
    actions = proposals.add_subparsers(dest="action", required=True, metavar="ACTION")
    drafting = actions.add_parser(
        "draft", help="l’ébauche des propositions pour les contributions soumises (CSV ou ODS)"
    )
    drafting.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        metavar="FICHIER",
        help="fichier .csv ou .ods à écrire",
    )
    add_overwrite_option(drafting)
    drafting.set_defaults(handler=cmd_draft)
    reviewed = actions.add_parser("import", help="appliquer le fichier relu (CSV ou ODS)")
    reviewed.add_argument("file", type=Path, metavar="FICHIER", help="l’ébauche relue")
    reviewed.add_argument(
        "--dry-run", action="store_true", help="afficher les changements sans les appliquer"
    )
    reviewed.add_argument(
        "--appliquer",
        action="store_true",
        help="appliquer même ce qui déferait des changements enregistrés depuis que le "
        "fichier a été enregistré (dans la discussion ou par un autre import)",
    )
    reviewed.set_defaults(handler=cmd_import_proposals)
    compared = actions.add_parser(
        "compare",
        help="l’ébauche refaite sur les contributions rangées, comparée aux propositions "
        "décidées (précision et rappel par paires)",
    )
    compared.set_defaults(handler=cmd_compare_proposals)


CONTRIBUTIONS_EXPECTED = (
    "Attendu : un fichier CSV en UTF-8 (séparateur « ; » ou « , »), ODS ou JSON, avec les "
    "colonnes de « recueil export »."
)
REVIEWED_EXPECTED = (
    "Attendu : l’ébauche relue, en CSV UTF-8 (séparateur « ; » ou « , ») ou en ODS, telle que "
    "« recueil proposals draft » l’a écrite."
)


def _unreadable(file: Path, error: SpreadsheetError, nothing_done: str, expected: str) -> int:
    """A file that cannot be read as a table: what it is, that nothing was done, what was
    expected."""
    return _fail([f"{file} : {error}. {nothing_done}", expected])


def _fail(lines: list[str] | str) -> int:
    text = lines if isinstance(lines, str) else "\n".join(lines)
    print(french(in_french(text)), file=sys.stderr)
    return EXIT_REFUSED


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:
        return "cli:admin"


# -- recueil proposals compare ------------------------------------------------------------


def cmd_compare_proposals(settings: Settings, args: argparse.Namespace) -> int:
    """What the administrators decided, against what the draft would suggest for the same
    contributions: the measure of the grouping on a grouping nobody here tuned on."""
    from nlp.loading import load_similarity
    from nlp.needs import read_catalogue

    store = open_store(settings)
    try:
        views = store.contributions()
        with store.transaction() as tx:
            current = {p.id: p.reference for p in tx.proposals()}
    finally:
        store.close()
    decided = {
        v.contribution.reference: current[v.contribution.proposal_id]
        for v in views
        if v.contribution.proposal_id in current
    }
    if not decided:
        return _fail("Aucune contribution n’est encore rangée dans une proposition.")
    ranged = [v for v in views if v.contribution.reference in decided]
    rows = draft(ranged, load_similarity(model_path(settings)), read_catalogue())
    figures = grouping_figures({row.reference: row.key for row in rows}, decided)
    print(french(compare_report(figures)))
    return 0


def compare_report(figures: dict[str, float]) -> str:
    def share(value: float) -> str:
        return "—" if value != value else decimal(value, 3)

    def count(key: str, forms: str) -> str:
        return plural(int(figures[key]), forms)

    return "\n".join(
        [
            f"{count('contributions', '# contribution rangée|# contributions rangées')} dans "
            f"{count('proposals', '# proposition|# propositions')} ; l’ébauche refaite sur "
            f"elles en fait {count('draft_groups', '# groupe|# groupes')}.",
            "Paires mises ensemble : "
            f"{int(figures['pairs_together'])} par les administrateurs, "
            f"{int(figures['pairs_drafted'])} par l’ébauche.",
            f"Précision {share(figures['precision'])} (part des paires de l’ébauche que les "
            f"administrateurs ont aussi réunies), rappel {share(figures['recall'])} (part des "
            "paires réunies par les administrateurs que l’ébauche retrouve).",
        ]
    )


# -- recueil import contributions ---------------------------------------------------------


def cmd_import_contributions(settings: Settings, args: argparse.Namespace) -> int:
    from nlp.loading import load_classifier
    from nlp.spacy_classifier import SpacyClassifier

    try:
        table = read_rows(args.file.read_bytes(), args.file.name)
    except SpreadsheetError as error:
        return _unreadable(args.file, error, "Rien n’a été importé.", CONTRIBUTIONS_EXPECTED)
    taxonomy = Taxonomy.load(settings.taxonomy_file)
    classifiers: list[Classifier] = []

    def classify(texts: Sequence[str]) -> list[tuple[str, float]]:
        """The classifier's guesses; loaded only when a row has no thématique."""
        if not classifiers:
            classifiers.append(load_classifier(taxonomy, model_path(settings)))
        classifier = classifiers[0]
        if isinstance(classifier, SpacyClassifier):
            return [prediction.best for prediction in classifier.predict_many(texts)]
        return [classifier.predict(text).best for text in texts]

    store = open_store(settings)
    try:
        with store.transaction() as tx:
            author = import_author(tx)
            known = tx.import_keys(author.id)
            try:
                result = import_contributions(
                    table,
                    default_referential(),
                    taxonomy,
                    known,
                    classify,
                    now=tx.now,
                    zone=settings.zone,
                )
            except ImportFileError as error:
                raise _Refused(error.errors) from error  # rolled back: nothing written
            stored = (
                None if args.dry_run else store_imported(tx, result.contributions, author, known)
            )
    except _Refused as refused:
        return _fail([f"{args.file} : rien n’a été importé.", *map(str, refused.errors)])
    finally:
        store.close()
    print(french(_import_report(result, stored)))
    return 0


def _spans(references: list[str]) -> str:
    """``B-0001 … B-0019, S-0001`` as « de B-0001 à B-0019 et S-0001 »: each kind's span
    (a trial read « de B-0001 à B-0019 » for an import that also made S-0001), by number
    (B-10000 comes after B-9999)."""
    by_kind: dict[str, list[str]] = {}
    for reference in references:
        by_kind.setdefault(reference.split("-", 1)[0], []).append(reference)

    def number(reference: str) -> int:
        return int(reference.split("-", 1)[1])

    spans = [
        kind[0] if len(kind) == 1 else f"de {min(kind, key=number)} à {max(kind, key=number)}"
        for kind in by_kind.values()
    ]
    return " et ".join(spans)


def _import_report(result: ImportResult, stored: Stored | None) -> str:
    """What was imported (``stored``), or, in a dry run (None), what would be."""
    count = len(result.contributions)
    references = stored.references if stored else []
    lines = [
        plural(count, "# contribution à importer|# contributions à importer")
        + " (essai : rien n’a été enregistré)."
        if stored is None
        else plural(count, "# contribution importée|# contributions importées")
        + (f" : {_spans(references)}." if references else ".")
    ]
    if stored is not None and stored.renumbered:
        lines.append(
            "Les références du fichier sont déjà prises ici : les contributions importées en "
            "ont reçu de nouvelles (« même besoin » suit)."
        )
    joined = sum(c.same_as is not None for c in result.contributions)
    if joined:
        lines.append(
            plural(joined, "# contribution rattachée|# contributions rattachées")
            + " au même besoin qu’une autre (colonne « meme_besoin_que »)."
        )
    if result.already_imported:
        lines.append(
            plural(
                len(result.already_imported),
                "# ligne déjà importée, laissée.|# lignes déjà importées, laissées.",
            )
        )
    for line, first in result.duplicates:
        lines.append(f"ligne {line} : la même contribution que la ligne {first}, laissée.")
    guessed = sum(c.thematique_source == "classifier" for c in result.contributions)
    if guessed:
        lines.append(
            "Thématique devinée par le classement pour "
            + plural(guessed, "# contribution.|# contributions.")
        )
    if result.triage_left:
        lines.append(
            "Le tri que le fichier indique (statut, proposition, message de l’administrateur) "
            "n’est pas repris pour "
            + plural(len(result.triage_left), "# contribution|# contributions")
            + " : une contribution importée est soumise, à trier ici."
        )
    if result.ignored_columns:
        lines.append("Colonnes ignorées : " + ", ".join(result.ignored_columns) + ".")
    return "\n".join(lines)


# -- recueil proposals draft / import -----------------------------------------------------


def cmd_draft(settings: Settings, args: argparse.Namespace) -> int:
    from nlp.loading import load_similarity
    from nlp.needs import read_catalogue

    try:
        fmt = format_of(args.output)
    except SpreadsheetError as error:
        return _fail(str(error))
    check_new(args.output, args.overwrite)  # before the draft is computed
    store = open_store(settings)
    try:
        views = [v for v in store.contributions() if v.contribution.status == "soumise"]
    finally:
        store.close()
    try:
        similarity = load_similarity(model_path(settings))
    except FileNotFoundError as error:
        print(french(f"Pas de modèle du même besoin ({error}) : liens des agents seuls."))
        similarity = None
    rows = draft(views, similarity, read_catalogue() if similarity else ())
    records = draft_records(rows, Taxonomy.load(settings.taxonomy_file))
    write_file(
        args.output, write_table(DRAFT_COLUMNS, records, fmt, sheet="Ébauche"), args.overwrite
    )
    groups = len({row.key for row in rows})
    submitted = plural(len(rows), "# contribution soumise|# contributions soumises")
    suggested = plural(groups, "# proposition suggérée, écrite|# propositions suggérées, écrites")
    print(
        french(
            f"{submitted} en {suggested} dans {args.output}. Relisez-le, puis : "
            f"recueil proposals import {args.output} --dry-run"
        )
    )
    return 0


def cmd_import_proposals(settings: Settings, args: argparse.Namespace) -> int:
    try:
        data = args.file.read_bytes()
        refuse_other_kinds(data)  # a PNG is named as such, whatever its name ends with
        table = read_table(data, format_of(args.file))
    except SpreadsheetError as error:
        return _unreadable(args.file, error, "Rien n’a été appliqué.", REVIEWED_EXPECTED)
    catalogue = Catalogue.load(settings.messages_file)
    saved = datetime.fromtimestamp(args.file.stat().st_mtime, UTC)
    store = open_store(settings)
    try:
        with store.transaction() as tx:
            stored = stored_triage(tx)
            try:
                plan = parse_triage(table, stored.state)
                changes = plan_changes(plan, stored.state)
                undoing = changed_since(tx, changes, stored.state, saved)
                references: dict[str, str | None] = {}
                if undoing and not args.dry_run and not args.appliquer:
                    raise _Undoing(undoing)
                if changes and not args.dry_run:
                    apply_triage(tx, plan, stored, _actor(), catalogue)
                    applied = stored_triage(tx).state.proposals
                    references = {key: p.reference for key, p in applied.items()}
            except TriageFileError as error:
                # leaving the block by an exception rolls the transaction back
                raise _Refused(error.errors) from error
    except _Refused as refused:
        return _fail([f"{args.file} : rien n’a été appliqué.", *map(str, refused.errors)])
    except _Undoing as undoing_error:
        lines = [describe(change) for change in undoing_error.changes]
        return _fail(
            [
                f"{args.file} : rien n’a été appliqué. Le fichier a été enregistré avant des "
                "changements faits depuis (dans la discussion ou par un autre import), que "
                "l’import déferait :",
                *(f"- {line}" for line in lines),
                "Repartez d’un fichier à jour (recueil proposals draft ou recueil export), ou "
                f"relancez « recueil proposals import {args.file} --appliquer » pour les "
                "défaire quand même.",
            ]
        )
    finally:
        store.close()
    report = changes_report(changes, args.dry_run, references)
    if args.dry_run and undoing:
        lines = [describe(change) for change in undoing]
        report += (
            "\nAttention : ces changements déferaient ce qui a été décidé depuis que le "
            "fichier a été enregistré ; l’import les refusera sans --appliquer :\n"
            + "\n".join(f"- {line}" for line in lines)
        )
    print(french(report))
    return 0


class _Undoing(Exception):
    """Leaves the transaction (rolling it back): the file would undo later changes."""

    def __init__(self, changes: list[Change]) -> None:
        super().__init__(len(changes))
        self.changes = changes


class _Refused(Exception):
    """Leaves the transaction (rolling it back) with the file's errors."""

    def __init__(self, errors: list[LineError]) -> None:
        super().__init__(len(errors))
        self.errors = errors


def changes_report(
    changes: list[Change], dry_run: bool, references: dict[str, str | None] | None = None
) -> str:
    if not changes:
        return "Aucun changement : le fichier dit ce qui est déjà enregistré."
    lines = [describe(change, references) for change in changes]
    counts: dict[str, int] = {}
    for change in changes:
        counts[change.action] = counts.get(change.action, 0) + 1
    summary = ", ".join(
        f"{ACTION_LABELS.get(action, action)} : {n}" for action, n in counts.items()
    )
    tail = (
        f"Essai : {plural(len(changes), '# changement|# changements')} ({summary}), "
        "rien n’a été appliqué."
        if dry_run
        else f"{plural(len(changes), '# changement appliqué|# changements appliqués')} ({summary})."
    )
    return "\n".join([*lines, tail])


# -- recueil export --what proposals ------------------------------------------------------


def export_proposals(settings: Settings, args: argparse.Namespace) -> int:
    store = open_store(settings)
    try:
        with store.transaction() as tx:
            rows = tx.proposal_rows()
    finally:
        store.close()
    records = proposal_records(rows, Taxonomy.load(settings.taxonomy_file))
    if args.format == "json":
        content = to_json(records)
    else:
        cells = for_spreadsheet(flat(records), settings.zone)
        content = write_table(PROPOSAL_COLUMNS, cells, args.format, sheet="Propositions")
    if args.output is None:
        sys.stdout.buffer.write(content)
        sys.stdout.flush()
    else:
        write_file(args.output, content, args.overwrite)
        exported = plural(len(records), "# proposition exportée|# propositions exportées")
        print(f"{exported} dans {args.output}", file=sys.stderr)
    return 0
