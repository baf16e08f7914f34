"""What ``recueil`` does with the files and the terminal it writes to: no binary on a
terminal, no file replaced unless asked (README, « Fichiers écrits par recueil »)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_runner import Recueil, isolated


@pytest.fixture
def recueil(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> Recueil:  # type: ignore[no-untyped-def]
    return isolated(tmp_path, monkeypatch, capsys)


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


WRITERS = {
    "export": ("export", "-o", "{file}"),
    "export ods": ("export", "--what", "proposals", "--format", "ods", "-o", "{file}"),
    "proposals draft": ("proposals", "draft", "-o", "{file}"),
    "invitations": ("invitations", "--collectivites", "{names}", "-o", "{file}"),
    "nlp feedback": ("nlp", "feedback", "--output", "{file}"),
    "db backup": ("db", "backup", "{file}"),
}
SUFFIXES = {"export ods": ".ods", "nlp feedback": ".jsonl", "db backup": ".sqlite3"}


@pytest.mark.parametrize("command", WRITERS)
def test_an_existing_file_is_replaced_only_with_ecraser(
    command: str, recueil: Recueil, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found in a trial: « recueil export -o contributions.csv » silently replaced the
    file of the day before."""
    if command == "proposals draft":  # from the agents' links alone: no model to load
        monkeypatch.setenv("RECUEIL_MODEL_DIR", str(tmp_path / "no-model"))
    assert recueil("db", "upgrade")[0] == 0  # the base exists: a backup has something to copy
    names = tmp_path / "collectivites.txt"
    names.write_text("Vichy\n", encoding="utf-8")
    target = tmp_path / f"sortie{SUFFIXES.get(command, '.csv')}"
    target.write_bytes(b"le fichier d'hier")
    args = [a.format(file=target, names=names) for a in WRITERS[command]]

    code, _, err = recueil(*args)
    assert code == 1, err
    assert (
        f"« {target} » existe déjà : rien n’a été écrit. Ajoutez --ecraser pour le remplacer, "
        "ou donnez un autre nom de fichier." in err
    )
    assert target.read_bytes() == b"le fichier d'hier"
    if command == "invitations":  # refused before any code was created
        assert "0 code d’invitation exporté" in recueil("invitations", "-o", str(tmp_path / "x"))[2]

    code, _, err = recueil(*args, "--ecraser")
    assert code == 0, err
    assert target.read_bytes() != b"le fichier d'hier"
    assert recueil(*args, "--force")[0] == 0  # the usual name works too


def test_a_file_sent_twice_to_the_terminal_chat_keeps_both(tmp_path: Path) -> None:
    """Found in a trial: two « mes données » in the same minute (the file is named with the
    minute) left only the second one in the data folder."""
    import asyncio

    from bot.core.values import ConversationKey, OutFile
    from bot.transports.console import ConsoleTransport, user_files
    from config.catalogue import Catalogue

    console = ConsoleTransport("marie", files_dir=tmp_path, jsonl=True, catalogue=Catalogue.load())
    key = ConversationKey("console", "marie", "marie")
    for content in (b'{"premier": 1}', b'{"second": 2}'):
        name = "mes-donnees-20270216-1000.json"
        asyncio.run(console.send_file(key, OutFile(name, content, caption="Vos données")))
    saved = user_files(tmp_path, "marie")  # each user's files in their own folder
    assert (saved / "mes-donnees-20270216-1000.json").read_bytes() == b'{"premier": 1}'
    assert (saved / "mes-donnees-20270216-1000-2.json").read_bytes() == b'{"second": 2}'
