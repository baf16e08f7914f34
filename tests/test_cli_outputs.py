"""What ``recueil`` does with the files and the terminal it writes to: no binary on a
terminal, no file replaced unless asked (README, « Fichiers écrits par recueil »)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_runner import Recueil, in_process


@pytest.fixture
def recueil(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> Recueil:  # type: ignore[no-untyped-def]
    """``recueil …`` in this process on a fresh SQLite base in ``tmp_path/data``."""
    for name in [n for n in os.environ if n.startswith("RECUEIL_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("RECUEIL_DATA_DIR", str(tmp_path / "data"))
    return in_process(capsys)


class Terminal:
    """A real terminal (a pseudo-terminal) to give the command as its standard output."""

    def __init__(self) -> None:
        self._reader, writer = os.openpty()
        self.file = os.fdopen(writer, "w", encoding="utf-8")

    def shown(self) -> bytes:
        """What the command wrote to it."""
        self.file.flush()
        os.set_blocking(self._reader, False)
        try:
            return os.read(self._reader, 65536)
        except BlockingIOError:
            return b""

    def close(self) -> None:
        self.file.close()
        os.close(self._reader)


@pytest.fixture
def terminal() -> Iterator[Terminal]:
    found = Terminal()
    try:
        yield found
    finally:
        found.close()


def test_an_ods_export_to_a_terminal_is_refused_with_the_option_to_use(
    recueil: Recueil, terminal: Terminal, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found in a trial: « recueil export --what proposals --format ods » covered the
    terminal with a zip archive's bytes."""
    monkeypatch.setattr(sys, "stdout", terminal.file)  # here: capsys sets it before the test
    code, _, err = recueil("export", "--what", "proposals", "--format", "ods")
    assert code == 2
    assert "Le format ods est un fichier binaire" in err
    assert "« -o FICHIER »" in err and "-o proposals.ods" in err
    assert "Rien n’a été exporté." in err
    assert terminal.shown() == b""


def test_text_exports_still_go_to_the_terminal(
    recueil: Recueil, terminal: Terminal, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdout", terminal.file)
    code, _, err = recueil("export", "--what", "proposals", "--format", "json")
    assert code == 0 and err == ""
    assert terminal.shown().strip() == b"[]"


def test_an_ods_export_to_a_pipe_or_a_redirection_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    from bot.app.cli import main

    monkeypatch.setenv("RECUEIL_DATA_DIR", str(tmp_path / "data"))
    assert main(["export", "--what", "proposals", "--format", "ods"]) == 0
    assert capsysbinary.readouterr().out.startswith(b"PK\x03\x04")  # the ODS archive
