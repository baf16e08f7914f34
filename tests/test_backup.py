"""``recueil db backup`` while the bot writes, then ``recueil db restore`` into a new data dir."""

from __future__ import annotations

import asyncio
import os
import shlex
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from cli_runner import in_process
from databases import PG_URL, drop_postgres_schema, fresh_postgres_url

from bot.core.values import ConversationKey, OutText, outgoing_to_dict
from storage.store import Store

RECUEIL = [sys.executable, "-m", "bot.app.cli"]


def recueil(data_dir: Path, *args: str, **variables: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECUEIL_")}
    env.update({"RECUEIL_DATA_DIR": str(data_dir), **variables})
    return subprocess.run([*RECUEIL, *args], capture_output=True, text=True, env=env, timeout=120)


def queued_texts(database: Path) -> list[str]:
    store = Store.open(f"sqlite:///{database}")
    try:
        key = ConversationKey("console", "marie", "marie")
        return [d.payload["text"] for d in store.pending_deliveries(key=key)]
    finally:
        store.close()


def test_a_backup_taken_while_the_base_is_open_restores_into_an_empty_data_directory(
    tmp_path: Path,
) -> None:
    live = tmp_path / "live"
    store = Store.open(f"sqlite:///{live / 'recueil.sqlite3'}")  # the bot, holding the base
    try:
        with store.transaction() as tx:
            tx.queue(
                ConversationKey("console", "marie", "marie"),
                [outgoing_to_dict(OutText("sauvée"))],
                agent_id=None,
            )
        saved = recueil(live, "db", "backup", str(tmp_path / "sauvegarde.sqlite3"))
        assert saved.returncode == 0, saved.stderr
        assert "Sauvegarde écrite" in saved.stdout
        with store.transaction() as tx:  # written after the backup: not in it
            tx.queue(
                ConversationKey("console", "marie", "marie"),
                [outgoing_to_dict(OutText("plus tard"))],
                agent_id=None,
            )
    finally:
        store.close()

    fresh = tmp_path / "fresh"
    restored = recueil(fresh, "db", "restore", str(tmp_path / "sauvegarde.sqlite3"))
    assert restored.returncode == 0, restored.stderr
    assert queued_texts(fresh / "recueil.sqlite3") == ["sauvée"]
    assert "à jour" in recueil(fresh, "db", "current").stdout
    assert "gardée" not in restored.stdout  # an empty data directory: nothing to keep

    # Restoring over a base keeps what it replaces: the wrong file restored is undone.
    over = recueil(live, "db", "restore", str(tmp_path / "sauvegarde.sqlite3"))
    assert over.returncode == 0, over.stderr
    assert queued_texts(live / "recueil.sqlite3") == ["sauvée"]
    [kept] = live.glob("recueil-avant-restauration-*.sqlite3")
    assert f"« {kept} »" in over.stdout.replace("\u00a0", " ")
    assert queued_texts(kept) == ["sauvée", "plus tard"]


def test_restoring_a_file_that_is_not_a_backup_leaves_the_base_alone(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("pas une base", encoding="utf-8")
    result = recueil(tmp_path / "data", "db", "restore", str(tmp_path / "notes.txt"))
    assert result.returncode == 1
    assert "n’est pas une sauvegarde utilisable" in result.stderr
    assert not (tmp_path / "data" / "recueil.sqlite3").exists()


def test_a_backup_into_a_missing_folder_says_so_in_french(tmp_path: Path) -> None:
    """Found in a terminal trial: « erreur inattendue » and a sqlite3 traceback."""
    result = recueil(tmp_path / "data", "db", "backup", str(tmp_path / "absent" / "x.db"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "n’existe pas" in result.stderr and "absent" in result.stderr


def test_on_postgresql_backup_prints_the_pg_dump_command_without_the_password(
    tmp_path: Path,
) -> None:
    result = recueil(
        tmp_path,
        "db",
        "backup",
        "recueil.dump",
        RECUEIL_DATABASE_URL="postgresql://recueil:motdepasse@db.example:5432/recueil",
    )
    assert result.returncode == 0, result.stderr
    assert "pg_dump --format=custom --file recueil.dump" in result.stdout
    assert "postgresql://recueil@db.example:5432/recueil" in result.stdout
    assert "motdepasse" not in result.stdout


def test_the_printed_pg_dump_and_pg_restore_commands_round_trip(tmp_path: Path) -> None:
    """PostgreSQL: what `recueil db backup` and `db restore` print is run as printed (narrowed
    to the test's schema, the test database being shared), and the data comes back."""
    if not PG_URL:
        pytest.skip("RECUEIL_TEST_DATABASE_URL is not set")
    url = fresh_postgres_url()
    schema = url.rsplit("%3D", 1)[1]
    dump = tmp_path / "recueil.dump"
    store = Store.open(url)
    try:
        with store.transaction() as tx:
            tx.queue(
                ConversationKey("console", "marie", "marie"), [{"type": "text", "text": "sauvée"}]
            )
    finally:
        store.close()

    def printed(action: str) -> list[str]:
        result = recueil(tmp_path, "db", action, str(dump), RECUEIL_DATABASE_URL=url)
        assert result.returncode == 0, result.stderr
        tool = {"backup": "pg_dump", "restore": "pg_restore"}[action]
        line = next(line for line in result.stdout.splitlines() if line.strip().startswith(tool))
        return shlex.split(line)

    backup = printed("backup")
    assert backup[0] == "pg_dump"
    subprocess.run([*backup, "--schema", schema], check=True, timeout=120)
    drop_postgres_schema(url)
    restore = printed("restore")
    assert restore[0] == "pg_restore"
    subprocess.run(restore, check=True, timeout=120)
    store = Store.open(url, auto_migrate=False)  # the restored base is at the head revision
    try:
        key = ConversationKey("console", "marie", "marie")
        assert [d.payload["text"] for d in store.pending_deliveries(key=key)] == ["sauvée"]
    finally:
        store.close()
        drop_postgres_schema(url)


@pytest.fixture
def recueil_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys):  # type: ignore[no-untyped-def]
    """``recueil …`` in this process on ``tmp_path/data``; (exit code, stdout, stderr)."""
    for name in [n for n in os.environ if n.startswith("RECUEIL_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("RECUEIL_DATA_DIR", str(tmp_path / "data"))
    Store.open(f"sqlite:///{tmp_path / 'data' / 'recueil.sqlite3'}").close()
    return in_process(capsys)


def test_a_backup_onto_a_folder_is_refused_before_copying_and_leaves_nothing(
    recueil_here, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """Found in a trial: a full copy of the base left in « .t.partiel », the error naming it."""
    folder = tmp_path / "t"
    folder.mkdir()
    code, _, err = recueil_here("db", "backup", str(folder))
    assert code == 2
    assert f"« {folder} » est un dossier : donnez le nom du fichier de sauvegarde" in err
    assert "partiel" not in err
    assert list(folder.iterdir()) == [] and not list(tmp_path.glob(".*partiel"))


def test_a_backup_is_readable_by_its_owner_only(recueil_here, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    previous = os.umask(0o022)
    try:
        code, out, _ = recueil_here("db", "backup", str(tmp_path / "sauvegarde.sqlite3"))
    finally:
        os.umask(previous)
    assert code == 0 and "Sauvegarde écrite" in out
    assert (tmp_path / "sauvegarde.sqlite3").stat().st_mode & 0o777 == 0o600


def test_a_failed_copy_leaves_no_partial_file(tmp_path: Path) -> None:
    from storage.backup import backup

    (tmp_path / "notes.txt").write_text("pas une base " * 1000, encoding="utf-8")
    with pytest.raises(sqlite3.DatabaseError):
        backup(tmp_path / "notes.txt", tmp_path / "copie.sqlite3")
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_restore_is_refused_while_terminal_chats_use_the_base(
    recueil_here, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """Found in a trial: « Base … restaurée » while a « recueil chat » ran on the directory.

    Two chats at once (alice and bob) still run together: the chat's lock is shared.
    """
    import bot.app.cli as cli

    saved = tmp_path / "sauvegarde.sqlite3"
    assert recueil_here("db", "backup", str(saved))[0] == 0
    seen: list[tuple[str, tuple[int, str, str]]] = []

    async def chatting(settings, user: str, jsonl: bool) -> None:  # type: ignore[no-untyped-def]
        if user == "alice":  # bob starts while alice chats, then the operator restores
            seen.append(("bob", await asyncio.to_thread(recueil_here, "chat", "--as", "bob")))
        else:
            seen.append(("restore", recueil_here("db", "restore", str(saved))))

    monkeypatch.setattr(cli, "chat", chatting)
    assert recueil_here("chat", "--as", "alice", "--jsonl")[0] == 0
    (name, (code, out, err)) = seen[0]
    assert name == "restore" and code == 1, err and "restaurée" not in out
    assert "Restauration refusée : un « recueil run » ou un « recueil chat » utilise la base" in err
    assert "La base n’a pas été modifiée." in err and "PostgreSQL" not in err
    assert seen[1] == ("bob", (0, "", ""))
    code, out, _ = recueil_here("db", "restore", str(saved))  # the chats are over
    assert code == 0 and "restaurée depuis" in out


def test_restoring_a_file_that_is_not_a_database_says_why_in_french(
    recueil_here, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """Found in a trial: « (file is not a database) », sqlite3's own English words."""
    notes = tmp_path / "notes.sqlite3"
    notes.write_bytes(b"pas une base " * 1000)
    code, _, err = recueil_here("db", "restore", str(notes))
    assert code == 1
    assert (
        f"« {notes} » n’est pas une sauvegarde utilisable de Recueil (ce n’est pas une base "
        "SQLite) : la base n’a pas été modifiée." in err
    )
    empty = tmp_path / "vide.sqlite3"
    sqlite3.connect(empty).close()
    code, _, err = recueil_here("db", "restore", str(empty))
    assert code == 1 and "(ce n’est pas une base Recueil, elle n’a pas de version de schéma)" in err
