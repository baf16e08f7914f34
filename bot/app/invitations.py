"""``recueil invitations``: each collectivité's invitation code, and its Telegram link, in a CSV
file for the organisers to send out (by the préfectures, the associations of élus…).

Codes are created once per collectivité and kept: exporting again gives the same codes, so a
code already sent stays good.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, cast

from bot.app.output_files import add_overwrite_option, check_new, write_file
from bot.app.services import open_store
from bot.consultation.export import to_csv
from bot.consultation.vouching import resolve
from config.catalogue import plural
from config.settings import Settings
from config.typography import french
from storage.ops.vouching import CollectiviteCode
from storage.referential import CollectiviteKind, CollectiviteRef, Referential, default_referential

INVITATION_COLUMNS = ("collectivite", "nature", "code_officiel", "code_invitation", "lien_telegram")


def add_command(commands: Any) -> None:
    """The subcommand, on the ``recueil`` parser."""
    parser = commands.add_parser(
        "invitations",
        help="codes d’invitation des collectivités (et liens Telegram), pour vérifier les soutiens",
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--collectivites",
        type=Path,
        metavar="FICHIER",
        help="une collectivité par ligne : nom ou code officiel (INSEE, SIREN d’un EPCI)",
    )
    which.add_argument(
        "--all-with-agents",
        action="store_true",
        help="toutes les collectivités dont au moins un agent a rempli son profil",
    )
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        metavar="FICHIER",
        help="le fichier CSV à écrire ; seul, avec les codes déjà créés",
    )
    add_overwrite_option(parser)
    parser.set_defaults(handler=cmd_invitations)


class UnreadableList(ValueError):
    """A list of collectivités that is not text (an image, a spreadsheet, UTF-16…)."""


def read_collectivites(
    path: Path, referential: Referential
) -> tuple[list[CollectiviteRef], list[str]]:
    """The collectivités a file names, one a line; and the lines that name none or several.

    Raises:
        UnreadableList: the file is not UTF-8 text; the message is French.
    """
    found: list[CollectiviteRef] = []
    problems: list[str] = []
    try:
        content = path.read_bytes().decode("utf-8-sig")
        readable = "\x00" not in content  # UTF-16 (its ASCII decodes as UTF-8), or not text
    except UnicodeDecodeError:
        readable = False
    if not readable:
        raise UnreadableList(
            f"« {path} » n’est pas un fichier texte en UTF-8 : aucun code créé, aucun fichier "
            "écrit. Attendu : un fichier texte en UTF-8, une collectivité par ligne (nom ou code "
            "officiel)."
        )
    for number, line in enumerate(content.splitlines(), 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        candidates = resolve(referential, text)
        if len(candidates) == 1:
            found.append(candidates[0])
        elif not candidates:
            problems.append(f"ligne {number} : « {text} » ne correspond à aucune collectivité")
        else:
            listed = ", ".join(f"{c.label} : {c.code}" for c in candidates[:5])
            problems.append(
                f"ligne {number} : « {text} » est ambigu ({listed}) ; indiquez le code officiel"
            )
    return found, problems


def invitation_records(
    codes: list[CollectiviteCode], referential: Referential, bot_username: str | None
) -> list[dict[str, Any]]:
    records = []
    for code in codes:
        ref = referential.get(cast(CollectiviteKind, code.kind), code.code)
        records.append(
            {
                "collectivite": ref.label if ref is not None else code.name,
                "nature": code.kind,
                "code_officiel": code.code,
                "code_invitation": code.invitation,
                "lien_telegram": (
                    f"https://t.me/{bot_username}?start={code.invitation}" if bot_username else ""
                ),
            }
        )
    return records


def cmd_invitations(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app.cli import default_user

    check_new(args.output, args.overwrite)  # before any code is created
    referential = default_referential()
    refs: list[CollectiviteRef] = []
    if args.collectivites is not None:
        # All or nothing: every line is checked before any code is created or file written.
        try:
            refs, problems = read_collectivites(args.collectivites, referential)
        except UnreadableList as error:
            print(french(str(error)), file=sys.stderr)
            return 1
        if problems:
            for problem in problems:
                print(french(problem), file=sys.stderr)
            print(
                french(
                    f"Aucun code créé, aucun fichier écrit : corrigez "
                    f"{plural(len(problems), 'cette ligne|ces # lignes')} de "
                    f"{args.collectivites} puis relancez la commande."
                ),
                file=sys.stderr,
            )
            return 1
    store = open_store(settings)
    try:
        with store.transaction() as tx:
            actor = f"cli:{default_user()}"
            ids: list[int] | None
            if args.collectivites is not None:
                ids = [tx.upsert_collectivite(ref) for ref in refs]
            elif args.all_with_agents:
                ids = tx.collectivites_with_agents()
            else:
                ids = None  # the codes already created
            codes = tx.invitation_codes(actor, ids)
            records = invitation_records(codes, referential, settings.telegram_bot_username)
            # Written inside the transaction: a file that cannot be written creates no code.
            write_file(
                args.output, to_csv(records, INVITATION_COLUMNS, settings.zone), args.overwrite
            )
    finally:
        store.close()
    exported = plural(len(records), "# code d’invitation exporté|# codes d’invitation exportés")
    print(french(f"{exported} dans {args.output}"), file=sys.stderr)
    if not settings.telegram_bot_username:
        print(
            french(
                "Sans RECUEIL_TELEGRAM_BOT_USERNAME, le fichier n’a pas de liens Telegram : "
                "les agents tapent « code ABCD-1234 »."
            ),
            file=sys.stderr,
        )
    return 0
