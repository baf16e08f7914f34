"""``recueil db backup FICHIER`` and ``recueil db restore FICHIER``."""

from __future__ import annotations

import sys
from pathlib import Path

import sqlalchemy as sa

from bot.app.instance import single_instance
from config.catalogue import Catalogue
from config.settings import Settings
from storage.backup import BackupError, backup, restore, sqlite_path


def backup_or_restore(settings: Settings, action: str, file: Path | None) -> int:
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
        if not file.parent.is_dir():  # sqlite3 would only say « unable to open database file »
            print(catalogue.t("backup.no_folder", folder=file.parent), file=sys.stderr)
            return 2
        size = backup(database, file)
        print(catalogue.t("backup.done", file=file, size=f"{size / 1e6:.1f} Mo".replace(".", ",")))
        return 0
    with single_instance(settings, catalogue):  # never under a running bot
        try:
            restore(file, database)
        except BackupError as exc:
            print(catalogue.t("backup.unusable", file=file, reason=exc), file=sys.stderr)
            return 1
    print(catalogue.t("backup.restored", file=file, database=database))
    return 0


def _without_password(url: str) -> str:
    """The URL for pg_dump and pg_restore: plain postgresql://, password left to PGPASSWORD."""
    parsed = sa.engine.make_url(url).set(drivername="postgresql")._replace(password=None)
    return parsed.render_as_string(hide_password=False)
