"""The terminal chat in JSON-lines mode and the CLI, driven as a user's script would."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

RECUEIL = [sys.executable, "-m", "bot.app.cli"]


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECUEIL_")}
    env["RECUEIL_DATA_DIR"] = str(tmp_path)
    env.update(extra)
    return env


class JsonlChat:
    """``recueil chat --jsonl`` as a subprocess: write one line, read until ``ready``."""

    def __init__(self, tmp_path: Path, user: str) -> None:
        self.process = subprocess.Popen(
            [*RECUEIL, "chat", "--jsonl", "--as", user],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            env=environment(tmp_path),
        )
        self.greeting = self._until_ready()

    def _until_ready(self) -> list[dict[str, object]]:
        assert self.process.stdout is not None
        replies = []
        while True:
            line = self.process.stdout.readline()
            assert line, f"the bot stopped: {self.process.stderr.read()}"  # type: ignore[union-attr]
            data = json.loads(line)
            if data["type"] == "ready":
                return replies
            replies.append(data)

    def send(self, payload: dict[str, str] | str) -> list[dict[str, object]]:
        assert self.process.stdin is not None
        line = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        return self._until_ready()

    def say(self, text: str) -> str:
        return "\n".join(str(r.get("text", "")) for r in self.send({"text": text}))

    def close(self) -> int:
        assert self.process.stdin is not None
        self.process.stdin.close()
        return self.process.wait(timeout=60)


def test_jsonl_chat_end_to_end_then_export(tmp_path: Path) -> None:
    chat = JsonlChat(tmp_path, "marie")
    assert any("bienvenue" in str(r["text"]) for r in chat.greeting)
    assert "Quelle est votre collectivité" in str(chat.greeting[-1]["text"])

    replies = chat.send({"text": "Villeurbanne"})
    assert replies[-1]["type"] == "choices"
    assert [c["id"] for c in replies[-1]["choices"]] == ["elu", "agent", "partenaire"]  # type: ignore[index]
    chat.send({"choice": "agent"})
    chat.say("Chargée de mission numérique")
    chat.say("marie@villeurbanne.fr")
    assert "Décrivez le problème" in (chat.say("1") + chat.say("Horaires de la déchèterie"))
    assert "Qui en bénéficierait" in chat.say(
        "Les habitants ne savent pas quand la déchèterie est ouverte et viennent pour rien."
    )
    chat.say("habitants")
    assert "thème" in chat.say("passer")
    assert "Que doit surtout permettre" in chat.say("1")  # the first thème offered
    assert "Voici votre besoin, avant envoi" in chat.say("Informer ou alerter les habitants")
    assert "B-0001" in chat.say("Envoyer")
    error = chat.send("ceci n'est pas du JSON")
    assert error == [{"type": "error", "text": error[0]["text"]}]
    assert chat.close() == 0

    exported = subprocess.run(
        [*RECUEIL, "export", "--what", "contributions", "--format", "csv"],
        capture_output=True,
        env=environment(tmp_path),
        check=True,
    ).stdout
    assert exported.startswith("\ufeff".encode())  # BOM, for spreadsheets
    rows = list(csv.DictReader(io.StringIO(exported.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 1
    assert rows[0]["reference"] == "B-0001"
    assert rows[0]["collectivite"] == "Villeurbanne"
    assert rows[0]["collectivite_code"] == "69266"
    assert rows[0]["auteur_fonction"] == "Chargée de mission numérique"
    assert rows[0]["usage"] == "informer"
    assert "marie@villeurbanne.fr" not in exported.decode("utf-8-sig")  # private

    out = tmp_path / "contributions.json"
    subprocess.run(
        [*RECUEIL, "export", "--format", "json", "-o", str(out)],
        env=environment(tmp_path),
        check=True,
        capture_output=True,
    )
    [record] = json.loads(out.read_text(encoding="utf-8"))
    assert record["titre"] == "Horaires de la déchèterie"
    assert record["beneficiaires"] == ["habitants"]  # every column named in French


def test_invalid_configuration_is_explained_in_french(tmp_path: Path) -> None:
    result = subprocess.run(
        [*RECUEIL, "db", "current"],
        capture_output=True,
        text=True,
        env=environment(
            tmp_path,
            RECUEIL_TIMEZONE="Lune/Tranquillité",
            RECUEIL_TELEGRAM_TOKEN="123:secret-token-value",
            RECUEIL_DATABASE_URL="mysql://x",
        ),
    )
    assert result.returncode == 2
    assert "RECUEIL_TIMEZONE" in result.stderr
    assert "RECUEIL_DATABASE_URL" in result.stderr
    assert "secret-token-value" not in result.stderr


@pytest.mark.parametrize("auto", ["false"])
def test_an_old_schema_says_what_to_run(tmp_path: Path, auto: str) -> None:
    env = environment(tmp_path, RECUEIL_AUTO_MIGRATE=auto)
    (tmp_path / "recueil.sqlite3").touch()
    result = subprocess.run(
        [*RECUEIL, "chat", "--jsonl"], input="", capture_output=True, text=True, env=env
    )
    assert result.returncode == 3
    assert "recueil db upgrade" in result.stderr
    upgraded = subprocess.run(
        [*RECUEIL, "db", "upgrade"], capture_output=True, text=True, env=env, check=True
    )
    assert "à jour" in upgraded.stdout


def test_recueil_run_in_the_terminal_stops_on_sigterm_while_waiting(tmp_path: Path) -> None:
    # It used to wait for one more line: the reading thread could not be interrupted.
    process = subprocess.Popen(
        [*RECUEIL, "run", "--as", "paul"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        env=environment(tmp_path),
    )
    assert process.stdout is not None
    while "Quelle est votre collectivité" not in process.stdout.readline():
        pass  # the bot greeted and now waits for input; stdin stays open
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0


def describe_in_chat(tmp_path: Path, user: str, commune: str, title: str, text: str) -> JsonlChat:
    """A new agent's profile, then a need up to the thème (answered by the caller)."""
    chat = JsonlChat(tmp_path, user)
    chat.send({"text": commune})
    chat.send({"choice": "agent"})
    chat.say("Secrétaire de mairie")
    chat.say("passer")
    chat.say("1")
    chat.say(title)
    chat.say(text)
    chat.say("habitants")
    chat.say("passer")
    return chat


def test_feedback_reports_what_agents_answered_to_the_same_need(tmp_path: Path) -> None:
    first = describe_in_chat(
        tmp_path,
        "marie",
        "Villeurbanne",
        "Horaires de la déchèterie",
        "Les habitants ne savent pas quand la déchèterie est ouverte et viennent pour rien.",
    )
    first.say("1")
    assert "Voici votre besoin, avant envoi" in first.say("informer")
    assert "B-0001" in first.say("Envoyer")
    assert first.close() == 0
    second = describe_in_chat(
        tmp_path,
        "paul",
        "Grenoble",
        "Horaires d'ouverture de la déchèterie en ligne",
        "Nos habitants viennent à la déchèterie quand elle est fermée : ils ne connaissent pas "
        "les horaires d'ouverture.",
    )
    second.say("1")
    assert "a déjà décrit un besoin proche" in second.say("informer")
    assert "sera associée à ce besoin" in second.say("1")
    assert "B-0002" in second.say("Envoyer")
    assert second.close() == 0

    report = subprocess.run(
        [*RECUEIL, "nlp", "feedback"],
        capture_output=True,
        text=True,
        env=environment(tmp_path),
        check=True,
    ).stdout
    assert "Contributions pour lesquelles un rapprochement a été proposé\u00a0: 1" in report
    assert "Agents qui se sont associés à un besoin proposé\u00a0: 1 (1,00)" in report
    assert "0,17 pour un même usage, 0,48 si l’usage est inconnu" in report
    exported = subprocess.run(
        [*RECUEIL, "export", "--what", "matches", "--format", "json"],
        capture_output=True,
        env=environment(tmp_path),
        check=True,
    ).stdout
    [row] = json.loads(exported)
    assert (row["contribution"], row["proche_de"], row["associee"]) == ("B-0002", "B-0001", True)


def console_chat(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    lines: str,
    *,
    jsonl: bool,
    user: str = "marie",
) -> str:
    """``recueil chat [--jsonl] --as USER`` fed ``lines``, in this process: everything it
    wrote."""
    from bot.app.cli import chat
    from config.settings import Settings

    out = io.StringIO()
    monkeypatch.setattr(sys, "stdin", io.StringIO(lines))
    monkeypatch.setattr(sys, "stdout", out)
    asyncio.run(chat(Settings(data_dir=tmp_path), user, jsonl=jsonl))
    return out.getvalue()


def test_an_empty_jsonl_line_gets_the_reply_of_an_empty_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression: an empty line got nothing but {"type": "ready"}."""
    written = console_chat(tmp_path, monkeypatch, '\n  \t\n{"text": ""}\n', jsonl=True)
    turns: list[list[str]] = [[]]
    for line in written.splitlines():
        data = json.loads(line)
        if data["type"] == "ready":
            turns.append([])
        else:
            turns[-1].append(str(data["text"]))
    greeting, empty, blank, empty_text, after_end = turns
    assert "Quelle est votre collectivité" in greeting[-1]
    assert after_end == []
    for replies in (empty, blank, empty_text):
        assert len(replies) == 1
        assert replies[0].startswith("Tapez le nom de votre collectivité")
    assert empty == blank == empty_text


def test_an_empty_line_in_the_terminal_gets_the_same_reply(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    written = console_chat(tmp_path, monkeypatch, "\n  \t\n", jsonl=False)
    assert written.count("Tapez le nom de votre collectivité") == 2


def test_a_file_sent_to_the_terminal_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    """« mes données » holds the agent's personal data: 0600 whatever the umask."""
    from bot.core.values import ConversationKey, OutFile
    from bot.transports.console import ConsoleTransport
    from config.catalogue import Catalogue

    console = ConsoleTransport(
        "marie", files_dir=tmp_path, jsonl=True, catalogue=Catalogue.load(None)
    )
    previous = os.umask(0o022)
    try:
        asyncio.run(
            console.send_file(
                ConversationKey("console", "marie", "marie"),
                OutFile("mes-donnees.json", b"{}", caption="Vos données"),
            )
        )
    finally:
        os.umask(previous)
    assert (tmp_path / "marie" / "mes-donnees.json").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "marie").stat().st_mode & 0o777 == 0o700


def test_the_terminal_chat_prints_no_journal_line_when_another_user_is_pushed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Regression: « WARNING bot.app.engine: no transport reaches console:…: 1 replies stay
    queued » appeared in the administrator's chat after each push to another terminal user
    (their messages waiting for their own ``recueil chat`` is how the terminal works)."""
    from bot.app.cli import main

    monkeypatch.setenv("RECUEIL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("RECUEIL_ADMINS", "console:chef")

    def chat(user: str, lines: str) -> tuple[str, str]:
        capsys.readouterr()
        monkeypatch.setattr(sys, "stdin", io.StringIO(lines))
        assert main(["chat", "--as", user]) == 0
        return capsys.readouterr()

    chat("marie", "Villeurbanne\n2\nDGS\npasser\n")
    out, err = chat("chef", "!annoncer agents Bonjour à tous\noui\n")
    assert "1 destinataire" in out.replace("\u00a0", " ")
    assert err == ""


def test_the_terminal_chat_shows_the_journal_when_recueil_log_level_asks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The terminal keeps the journal out of the conversation unless asked: with
    RECUEIL_LOG_LEVEL=INFO, its lines go to the error output."""
    from bot.app.cli import main

    monkeypatch.setenv("RECUEIL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("RECUEIL_LOG_LEVEL", "INFO")
    monkeypatch.setattr(sys, "stdin", io.StringIO("Villeurbanne\n"))
    capsys.readouterr()
    assert main(["chat", "--as", "marie"]) == 0
    out, err = capsys.readouterr()
    assert "INFO" in err and "INFO" not in out


def test_a_warning_the_terminal_chat_shows_is_in_french(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The terminal shows warnings: « same-need search disabled: no … in … » was English."""
    from bot.app.cli import main

    monkeypatch.setenv("RECUEIL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("RECUEIL_MODEL_DIR", str(tmp_path / "pas-de-modele"))
    monkeypatch.setattr(sys, "stdin", io.StringIO("Villeurbanne\n"))
    capsys.readouterr()
    assert main(["chat", "--as", "marie"]) == 0
    _, err = capsys.readouterr()
    assert "recherche du même besoin désactivée" in err
    assert "disabled" not in err
