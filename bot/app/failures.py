"""What the ``recueil`` command says when the system fails under it: French, no traceback.

A full disk, a missing directory or an unreachable database is not a bug of Recueil: the
operator gets one sentence naming what failed and a non-zero exit code. Anything else is
left to propagate, with its traceback, as the bug it is.
"""

from __future__ import annotations

import errno
import re
import shutil
from pathlib import Path

import sqlalchemy as sa

from bot.app.instance import AlreadyRunning
from bot.app.output_files import OutputExists
from config.catalogue import Catalogue
from storage.db import SchemaError

EXIT_FAILURE = 1
EXIT_SCHEMA = 3

# The reasons an operator meets; anything else keeps the system's own wording.
_REASONS = {
    errno.ENOENT: "failure.reason.missing",
    errno.EACCES: "failure.reason.denied",
    errno.EPERM: "failure.reason.denied",
    errno.EROFS: "failure.reason.read_only",
    errno.EISDIR: "failure.reason.is_directory",
    errno.ENOTDIR: "failure.reason.not_directory",
    errno.EEXIST: "failure.reason.exists",
}
_DISK_FULL_SIGNS = ("database or disk is full", "No space left on device", "disk full")


def explain(
    exc: BaseException, catalogue: Catalogue, data_dir: Path | None = None
) -> tuple[str, int] | None:
    """The French message and exit code for a failure of the system, or None for a bug.

    SQLite reports a disk that fills while it maps its shared memory as a mere "disk I/O
    error": the free space left in ``data_dir`` tells the two apart.
    """
    if isinstance(exc, SchemaError):
        return str(exc), EXIT_SCHEMA
    if isinstance(exc, AlreadyRunning):
        return str(exc), EXIT_FAILURE
    if isinstance(exc, OutputExists):
        return catalogue.t("cli.output_exists", path=exc.path), EXIT_FAILURE
    if isinstance(exc, OSError):
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return catalogue.t("failure.disk_full", detail=_path(exc)), EXIT_FAILURE
        if exc.errno == errno.EEXIST and data_dir is not None and data_dir.is_file():
            return catalogue.t("failure.data_dir_is_file", path=data_dir), EXIT_FAILURE
        key = _REASONS.get(exc.errno or 0)
        reason = catalogue.t(key) if key else (exc.strerror or str(exc))
        return catalogue.t("failure.file", path=_path(exc), reason=reason), EXIT_FAILURE
    if isinstance(exc, sa.exc.DBAPIError):
        detail = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        if any(sign in str(exc.orig) for sign in _DISK_FULL_SIGNS) or (
            "disk I/O error" in str(exc.orig) and data_dir is not None and _nearly_full(data_dir)
        ):
            return catalogue.t("failure.disk_full", detail=detail), EXIT_FAILURE
        return catalogue.t("failure.database", detail=detail), EXIT_FAILURE
    return None


_LIBRARY_WORDS = (
    # sqlite3
    (r"file is not a database", "ce n’est pas une base SQLite"),
    (
        r"no such table: alembic_version",
        "ce n’est pas une base Recueil, elle n’a pas de version de schéma",
    ),
    (r"database disk image is malformed", "la base est endommagée"),
    # json
    (r"Expecting property name enclosed in double quotes", "nom de champ entre guillemets attendu"),
    (r"Expecting value", "valeur attendue"),
    (r"Expecting ',' delimiter", "virgule attendue"),
    (r"Expecting ':' delimiter", "deux-points attendus"),
    (r"Unterminated string starting at", "guillemet fermant manquant, texte commencé à"),
    (r"Invalid control character at", "caractère de contrôle interdit à"),
    (r"Extra data", "texte en trop après la valeur JSON"),
    # odfdo, zipfile
    (r"Document format not managed by odfdo\b[^;]*", "ce n’est pas un document OpenDocument"),
    (r"File is not a zip file", "ce n’est pas un document OpenDocument (archive zip)"),
)


def in_french(detail: str) -> str:
    """``detail`` with the English wording of the libraries an operator meets most (sqlite3,
    json, odfdo) said in French; anything else is kept as it is."""
    for english, french_words in _LIBRARY_WORDS:
        detail = re.sub(english, french_words, detail)
    return detail


def _path(exc: OSError) -> str:
    return str(exc.filename) if exc.filename else (exc.strerror or str(exc))


def _nearly_full(directory: Path) -> bool:
    try:
        return shutil.disk_usage(directory).free < 1024 * 1024
    except OSError:
        return False
