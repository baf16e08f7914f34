"""``recueil db backup FICHIER`` and ``recueil db restore FICHIER``."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from bot.app.failures import in_french
from bot.app.instance import base_alone
from bot.app.output_files import check_new
from config.catalogue import Catalogue
from config.settings import Settings
from storage.backup import BackupError, backup, check, restore, sqlite_path


def backup_or_restore(
    settings: Settings, action: str, file: Path | None, overwrite: bool = False
) -> int:
    catalogue = Catalogue.load(settings.messages_file)
    if file is None:
        print(catalogue.t("backup.file_missing", action=action), file=sys.stderr)
        return 2
    url = settings.effective_database_url
    database = sqlite_path(url)
    if database is None:
        print(catalogue.t(f"backup.postgresql_{action}", url=_without_password(url), file=file))
        return 0
    if action == "backup":
        if file.is_dir():
            print(catalogue.t("backup.is_folder", file=file), file=sys.stderr)
            return 2
        if not file.parent.is_dir():  # sqlite3 would only say « unable to open database file »
            print(catalogue.t("backup.no_folder", folder=file.parent), file=sys.stderr)
            return 2
        check_new(file, overwrite)
        size = backup(database, file)
        print(catalogue.t("backup.done", file=file, size=f"{size / 1e6:.1f} Mo".replace(".", ",")))
        return 0
    with base_alone(settings, catalogue):  # never under a running bot or terminal chat
        try:
            check(file)
        except BackupError as exc:
            reason = in_french(str(exc))
            print(catalogue.t("backup.unusable", file=file, reason=reason), file=sys.stderr)
            return 1
        kept = _keep_current(database, settings)
        restore(file, database)
    print(catalogue.t("backup.restored", file=file, database=database))
    if kept is not None:
        print(catalogue.t("backup.kept", file=kept))
    return 0


def _keep_current(database: Path, settings: Settings) -> Path | None:
    """A copy of the base about to be replaced (a restore from the wrong file is undone by
    restoring this copy), beside it, named with the local time."""
    if not database.exists() or database.stat().st_size == 0:
        return None
    stamp = datetime.now(settings.zone).strftime("%Y%m%d-%H%M%S")
    kept = database.with_name(f"{database.stem}-avant-restauration-{stamp}{database.suffix}")
    backup(database, kept)
    return kept


def _without_password(url: str) -> str:
    """The URL for pg_dump and pg_restore: plain postgresql://, password left to PGPASSWORD."""
    parsed = sa.engine.make_url(url).set(drivername="postgresql")._replace(password=None)
    return parsed.render_as_string(hide_password=False)
