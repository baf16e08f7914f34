"""The files ``recueil`` writes where the operator says: an existing file is never replaced
unless the command is given ``--ecraser`` (or ``--force``).

One rule for every command that writes a file it is given (``export -o``, ``proposals draft
-o``, ``invitations -o``, ``nlp feedback --output``, ``db backup FICHIER``): the command checks
the name before doing anything (no export computed, no invitation code created) and stops with
a French message if the file exists; the write itself opens the file exclusively, so a file
that appears meanwhile is not replaced either. ``nlp train`` is the exception: replacing the
model it trains is what it is for.
"""

from __future__ import annotations

import argparse
import errno
from pathlib import Path


class OutputExists(Exception):
    """The file a command was told to write exists and ``--ecraser`` was not given."""

    def __init__(self, path: Path) -> None:
        super().__init__(str(path))
        self.path = path


def add_overwrite_option(parser: argparse.ArgumentParser, what: str = "le fichier écrit") -> None:
    parser.add_argument(
        "--ecraser",
        "--force",
        dest="overwrite",
        action="store_true",
        help=f"remplacer {what} s’il existe déjà (sans cette option, la commande refuse "
        "et ne fait rien)",
    )


def check_new(path: Path | None, overwrite: bool) -> None:
    """Raise :class:`OutputExists` if ``path`` may not be written; a folder is named as one.

    Raises:
        OutputExists: the file exists and ``overwrite`` is false.
        IsADirectoryError: ``path`` is a folder (explained like any file error).
    """
    if path is None:
        return
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "Is a directory", str(path))
    if not overwrite and (path.exists() or path.is_symlink()):
        raise OutputExists(path)


def write_file(path: Path, content: bytes, overwrite: bool) -> None:
    """Write ``content`` to ``path``; without ``overwrite``, only if it does not exist yet."""
    check_new(path, overwrite)
    try:
        with path.open("wb" if overwrite else "xb") as out:
            out.write(content)
    except FileExistsError:
        raise OutputExists(path) from None
