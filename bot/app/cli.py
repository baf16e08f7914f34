"""The ``recueil`` command: run the bot, chat in the terminal, export, manage the database."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot.app.failures import explain
from bot.app.french_args import FrenchArgumentParser
from bot.app.instance import single_instance, using_base
from bot.app.invitations import add_command as add_invitations_command
from bot.app.logs import install_logging
from bot.app.output_files import OutputExists, add_overwrite_option, check_new, write_file
from bot.app.services import build_engine, model_path, open_store
from bot.app.triage_cli import add_commands as add_triage_commands
from bot.app.triage_cli import export_proposals
from bot.consultation import regroup
from bot.consultation.export import (
    CLUSTER_COLUMNS,
    CONTRIBUTION_COLUMNS,
    cluster_records,
    contribution_records,
    to_csv,
    to_json,
)
from bot.consultation.matches import MATCH_COLUMNS, feedback, match_records, render
from bot.consultation.need_types import NEED_TYPE_COLUMNS, need_type_records
from bot.consultation.referents import VOLUNTEER_COLUMNS, volunteer_records
from bot.consultation.regroup import (
    CANDIDATE_COLUMNS,
    CANDIDATE_MIN_SCORE,
    candidate_records,
    index_of,
)
from bot.consultation.results import RESULTS_COLUMNS, results_records
from bot.transports.console import ConsoleTransport, files_dir
from config.catalogue import Catalogue, plural
from config.settings import ConfigError, Settings, load_settings, unknown_variables
from config.taxonomy import Taxonomy
from config.typography import french
from nlp.cli import add_commands as add_nlp_commands
from nlp.loading import load_similarity
from nlp.needs import read_catalogue
from storage.db import create_db_engine, current_revision, head_revision, upgrade

if TYPE_CHECKING:
    from nlp.feedback import Feedback

log = logging.getLogger("recueil")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 1 if args.command == "doctor" else EXIT_CONFIG
    if args.command != "doctor":  # the doctor lists them among its findings
        for warning in unknown_variables():
            print(warning, file=sys.stderr)
    # In the terminal chat the journal would mix with the conversation, and one-shot
    # commands print their own result: warnings only, unless RECUEIL_LOG_LEVEL (or the
    # configuration file) asks for more.
    one_shot = (
        "chat",
        "export",
        "nlp",
        "regroup",
        "doctor",
        "phases",
        "import",
        "proposals",
        "invitations",
    )
    terminal = args.command in one_shot or (
        args.command == "run" and not (settings.matrix_homeserver or settings.telegram_token)
    )
    asked = "log_level" in settings.model_fields_set
    install_logging(settings, logging.WARNING if terminal and not asked else settings.log_level)
    if args.command != "run":
        # « Context impl SQLiteImpl » and the like, in English: « db » prints its own lines.
        logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        return int(args.handler(settings, args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return closed_output()
    except ConfigError as exc:  # a data file (calendar, texts…) the operator edits
        print(exc, file=sys.stderr)
        return EXIT_CONFIG
    except Exception as exc:
        explained = explain(exc, Catalogue.load(settings.messages_file), settings.data_dir)
        if explained is None:
            raise
        message, code = explained
        print(message, file=sys.stderr)
        return code


EXIT_CONFIG = 2
"""A setting or a data file the operator edits is wrong (as argparse's usage errors)."""
EXIT_CLOSED_PIPE = 141
"""128 + SIGPIPE: what ``cat`` or ``grep`` end with when ``| head`` stops reading."""


def closed_output() -> int:
    """The reader of our output went away (``recueil phases | head -1``): stop quietly, like the
    standard tools. Python's own flush at exit would fail again: point stdout at /dev/null."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return EXIT_CLOSED_PIPE


def build_parser() -> argparse.ArgumentParser:
    parser = FrenchArgumentParser(
        prog="recueil",
        description="Recueil : l’agent conversationnel de la consultation des collectivités.",
        epilog="« recueil COMMANDE --help » détaille une commande ; README.md les décrit toutes.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMANDE")

    run = commands.add_parser("run", help="lancer le bot (transports configurés et tâches)")
    run.set_defaults(handler=cmd_run)
    run.add_argument(
        "--as",
        dest="user",
        default=None,
        metavar="UTILISATEUR",
        help="identifiant de l’utilisateur du terminal, quand aucun autre transport n’est "
        "configuré (par défaut : l’utilisateur du système)",
    )

    chat = commands.add_parser("chat", help="discuter avec le bot dans le terminal")
    chat.add_argument(
        "--as",
        dest="user",
        default=None,
        metavar="UTILISATEUR",
        help="identifiant de l’utilisateur (par défaut : l’utilisateur du système)",
    )
    chat.add_argument(
        "--jsonl",
        action="store_true",
        help="lignes JSON sur l’entrée et la sortie (pour les scripts)",
    )
    chat.set_defaults(handler=cmd_chat)

    export = commands.add_parser(
        "export",
        help="exporter les contributions, les besoins partagés, les propositions, les "
        "volontaires ou les résultats du vote (CSV, JSON ou ODS)",
    )
    export.add_argument(
        "--what",
        metavar="QUOI",
        choices=[
            "contributions",
            "clusters",
            "matches",
            "candidates",
            "need-types",
            "proposals",
            "volontaires",
            "resultats",
        ],
        default="contributions",
        help=(
            "contributions (par défaut) ; "
            "clusters : chaque besoin avec les collectivités qui le partagent ; "
            "matches : les besoins proches montrés aux agents et leurs réponses ; "
            "candidates : les paires qui décrivent peut-être le même besoin, à vérifier ; "
            "need-types : les contributions rangées par besoin type, une première ébauche "
            "des propositions ; "
            "proposals : chaque proposition avec ses contributions et collectivités (aussi en "
            "ods) ; "
            "volontaires : les collectivités volontaires comme territoires référents, par "
            "lauréat ; "
            "resultats : le classement du vote (soutiens vérifiés, puis tous) et les lauréats"
        ),
    )
    export.add_argument(
        "--min-score",
        type=float,
        default=CANDIDATE_MIN_SCORE,
        metavar="SCORE",
        help=f"candidates : score minimal, de 0 à 1 (par défaut {CANDIDATE_MIN_SCORE})",
    )
    export.add_argument(
        "--format",
        choices=["csv", "json", "ods"],
        default="csv",
        help="csv (par défaut ; UTF-8 avec BOM, séparateur « ; »), json, ou ods (--what "
        "proposals seulement)",
    )
    export.add_argument(
        "-o",
        "--output",
        type=Path,
        default=None,
        metavar="FICHIER",
        help="fichier à écrire (par défaut : la sortie standard)",
    )
    add_overwrite_option(export)
    export.set_defaults(handler=cmd_export)

    add_triage_commands(commands)
    nlp_commands = add_nlp_commands(commands)
    matches = nlp_commands.add_parser(
        "feedback",
        help="précision du même besoin d’après les réponses des agents (base de données)",
    )
    matches.add_argument(
        "--output",
        type=Path,
        default=None,
        metavar="FICHIER",
        help="écrire aussi toutes les décisions des utilisateurs dans ce fichier (une ligne "
        "JSON par décision), pour nlp train et nlp eval --feedback-file",
    )
    add_overwrite_option(matches)
    matches.set_defaults(handler=cmd_feedback)
    for name in ("train", "eval"):
        nlp_commands.choices[name].set_defaults(feedback_source=read_feedback)

    regrouping = commands.add_parser(
        "regroup", help="rattacher une contribution au groupe d’une autre (même besoin)"
    )
    regrouping.add_argument(
        "reference", metavar="RÉFÉRENCE", help="la contribution à rattacher, par exemple B-0005"
    )
    target = regrouping.add_mutually_exclusive_group(required=True)
    target.add_argument(
        "--with",
        dest="with_reference",
        metavar="RÉFÉRENCE",
        help="une contribution du groupe visé, par exemple B-0001",
    )
    target.add_argument("--alone", action="store_true", help="la détacher de son groupe")
    regrouping.set_defaults(handler=cmd_regroup)

    phases = commands.add_parser(
        "phases", help="le calendrier, les annonces dues et la progression des envois"
    )
    phases.set_defaults(handler=cmd_phases)

    add_invitations_command(commands)

    doctor = commands.add_parser(
        "doctor", help="vérifier l’installation : configuration, base, Telegram, Matrix, modèle"
    )
    doctor.set_defaults(handler=cmd_doctor)

    db = commands.add_parser(
        "db", help="base de données : version, migrations, sauvegarde et restauration"
    )
    db.add_argument(
        "action",
        choices=["upgrade", "current", "backup", "restore"],
        help="upgrade : appliquer les migrations ; current : afficher la version de la base ; "
        "backup : sauvegarder la base ; restore : la restaurer, bot arrêté",
    )
    db.add_argument(
        "file",
        nargs="?",
        type=Path,
        metavar="FICHIER",
        help="backup : le fichier de sauvegarde à écrire ; restore : celui à relire",
    )
    add_overwrite_option(db, "le fichier de sauvegarde")
    db.set_defaults(handler=cmd_db)
    return parser


def default_user() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "agent"


async def chat(settings: Settings, user: str, jsonl: bool) -> None:
    engine = build_engine(settings)
    console = ConsoleTransport(
        user,
        files_dir=files_dir(settings.data_dir),
        jsonl=jsonl,
        catalogue=engine.services.catalogue,
    )
    engine.register(console)
    try:
        await engine.redeliver_pending("console")
        await console.run(engine.handle)
    finally:
        await engine.close()
        engine.store.close()


def cmd_chat(settings: Settings, args: argparse.Namespace) -> int:
    # Shared: several terminal chats (and a running bot) use one base; a restore waits.
    with using_base(settings, Catalogue.load(settings.messages_file)):
        asyncio.run(chat(settings, args.user or default_user(), args.jsonl))
    return 0


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app.runner import run_bot

    catalogue = Catalogue.load(settings.messages_file)
    with single_instance(settings, catalogue), using_base(settings, catalogue):
        asyncio.run(run_bot(settings, console_user=args.user or default_user()))
    return 0


BINARY_FORMATS = ("ods",)
"""Formats whose bytes mean nothing in a terminal (a zip archive)."""


def cmd_export(settings: Settings, args: argparse.Namespace) -> int:
    if args.format == "ods" and args.what != "proposals":
        print(french("Le format ods n’existe que pour --what proposals."), file=sys.stderr)
        return 2
    if args.output is None and args.format in BINARY_FORMATS and sys.stdout.isatty():
        # A redirection (« > propositions.ods ») or a pipe still gets the bytes.
        message = Catalogue.load(settings.messages_file).t(
            "cli.binary_to_terminal", format=args.format, what=args.what
        )
        print(message, file=sys.stderr)
        return 2
    check_new(args.output, args.overwrite)  # before the export is computed
    if args.what == "proposals":
        return export_proposals(settings, args)
    store = open_store(settings)
    try:
        views = store.contributions()
        offers = store.volunteers() if args.what == "volontaires" else []
        with store.transaction() as tx:
            tallies = tx.support_tallies() if args.what == "resultats" else []
    finally:
        store.close()
    taxonomy = Taxonomy.load(settings.taxonomy_file)
    if args.what == "resultats":
        records, columns = results_records(tallies, taxonomy), RESULTS_COLUMNS
    elif args.what == "clusters":
        records, columns = cluster_records(views, taxonomy), CLUSTER_COLUMNS
    elif args.what == "matches":
        records, columns = match_records(views), MATCH_COLUMNS
    elif args.what == "candidates":
        index = index_of(views, load_similarity(model_path(settings)))
        records = candidate_records(views, index, args.min_score)
        columns = CANDIDATE_COLUMNS
    elif args.what == "need-types":
        needs = load_similarity(model_path(settings)).needs
        if needs is None:
            print(
                french("Le modèle livré n’a pas de besoins types : lancez « recueil nlp train »."),
                file=sys.stderr,
            )
            return 1
        records, columns = need_type_records(views, needs, read_catalogue()), NEED_TYPE_COLUMNS
    elif args.what == "volontaires":
        catalogue = Catalogue.load(settings.messages_file)
        records, columns = volunteer_records(offers, catalogue), VOLUNTEER_COLUMNS
    else:
        records, columns = contribution_records(views, taxonomy), CONTRIBUTION_COLUMNS
    content = to_csv(records, columns, settings.zone) if args.format == "csv" else to_json(records)
    if args.output is None:
        sys.stdout.buffer.write(content)
        sys.stdout.flush()
    else:
        write_file(args.output, content, args.overwrite)
        exported = plural(len(records), "# ligne exportée|# lignes exportées")
        print(f"{exported} dans {args.output}", file=sys.stderr)
    return 0


def cmd_regroup(settings: Settings, args: argparse.Namespace) -> int:
    catalogue = Catalogue.load(settings.messages_file)
    store = open_store(settings)
    try:
        with store.transaction() as tx:
            ok, message = regroup.apply(
                tx,
                catalogue.t,
                f"cli:{default_user()}",
                args.reference,
                None if args.alone else args.with_reference,
            )
    finally:
        store.close()
    print(message, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


def read_feedback(settings: Settings) -> Feedback:
    """What agents and administrators decided, from the configured database."""
    from bot.consultation.learning import collect

    store = open_store(settings)
    try:
        with store.transaction() as tx:
            return collect(tx)
    finally:
        store.close()


def cmd_feedback(settings: Settings, args: argparse.Namespace) -> int:
    check_new(args.output, args.overwrite)
    store = open_store(settings)
    try:
        records = match_records(store.contributions())
    finally:
        store.close()
    if args.output is not None:
        decisions = read_feedback(settings)
        try:
            decisions.write(args.output, replace=args.overwrite)
        except FileExistsError:  # appeared since check_new
            raise OutputExists(args.output) from None
        print(
            french(
                f"Décisions écrites dans {args.output} : thématiques : "
                f"{len(decisions.thematiques)}, paires : {len(decisions.pairs)}."
            ),
            file=sys.stderr,
        )
    similarity = load_similarity(model_path(settings))
    rule = similarity.settings
    report = render(
        feedback(records, similarity.lowest_threshold), rule.threshold, rule.usage_threshold
    )
    print(french(report))
    return 0


def cmd_phases(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app.phases_cli import phases_report

    print(phases_report(settings))
    return 0


def cmd_doctor(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app.doctor import run_doctor

    return run_doctor(settings, Catalogue.load(settings.messages_file))


def cmd_db(settings: Settings, args: argparse.Namespace) -> int:
    if args.action in ("backup", "restore"):
        from bot.app.backups import backup_or_restore

        return backup_or_restore(settings, args.action, args.file, args.overwrite)
    engine = create_db_engine(settings.effective_database_url)
    try:
        if args.action == "upgrade":
            upgrade(engine)
        current, head = current_revision(engine), head_revision()
        state = "à jour" if current == head else f"migration nécessaire vers {head}"
        print(f"Version de la base : {current or 'vide'} ({state})")
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
