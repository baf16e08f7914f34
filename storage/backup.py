"""Online backups of a SQLite base, and their restore; PostgreSQL is saved with pg_dump.

SQLite's backup API copies a consistent snapshot page by page while the bot keeps writing
(a plain file copy of a WAL base can miss the last commits or tear a page).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import sqlalchemy as sa


class BackupError(Exception):
    """The file given is not a usable SQLite base."""


def sqlite_path(url: str) -> Path | None:
    """The base's file, or None when the URL is not a SQLite file (PostgreSQL, memory)."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    return None if parsed.database == ":memory:" else Path(parsed.database)


PRIVATE = 0o600
"""A backup holds personal data: readable by its owner only, whatever the umask."""


def backup(database: Path, target: Path) -> int:
    """Copy ``database`` into ``target`` (written beside it, then renamed); returns bytes.

    The copy is readable by its owner only; a copy that fails is removed, never left behind.
    """
    if target.is_dir():
        raise IsADirectoryError(21, "Is a directory", str(target))
    partial = target.with_name(f".{target.name}.partiel")
    partial.unlink(missing_ok=True)
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE))
    try:
        source = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
        try:
            destination = sqlite3.connect(partial)
            try:
                source.backup(destination)
            finally:
                destination.close()
        finally:
            source.close()
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return target.stat().st_size


def check(path: Path) -> None:
    """Raise :class:`BackupError` unless ``path`` is a SQLite base that passes its own check."""
    if not path.is_file():
        raise FileNotFoundError(2, "No such file", str(path))
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            [(verdict,)] = connection.execute("PRAGMA integrity_check").fetchall()
            connection.execute("SELECT version_num FROM alembic_version").fetchall()
        finally:
            connection.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(str(exc)) from None
    if verdict != "ok":
        raise BackupError(str(verdict))


def restore(source: Path, database: Path) -> None:
    """Replace the base's content with the backup ``source`` (the bot must be stopped)."""
    check(source)
    database.parent.mkdir(parents=True, exist_ok=True)
    origin = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        destination = sqlite3.connect(database)
        try:
            origin.backup(destination)
        finally:
            destination.close()
    finally:
        origin.close()
