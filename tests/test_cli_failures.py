"""The system failing under ``recueil``: one French sentence and a non-zero exit, no traceback."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from storage.db import create_db_engine, upgrade

RECUEIL = [sys.executable, "-m", "bot.app.cli"]


def recueil(tmp_path: Path, *args: str, **variables: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECUEIL_")}
    env.update({"RECUEIL_DATA_DIR": str(tmp_path / "data"), **variables})
    return subprocess.run(
        [*RECUEIL, *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.mark.parametrize("auto_migrate", ["true", "false"])
def test_a_database_at_a_revision_the_code_does_not_know_is_explained_without_advising_upgrade(
    tmp_path: Path, auto_migrate: str
) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'data' / 'recueil.sqlite3'}")
    upgrade(engine)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = '9999_from_later'"))
    engine.dispose()
    for command in (["chat", "--jsonl"], ["db", "upgrade"]):
        result = recueil(tmp_path, *command, RECUEIL_AUTO_MIGRATE=auto_migrate)
        assert result.returncode == 3, result.stderr
        assert "Traceback" not in result.stderr
        assert "9999_from_later" in result.stderr
        assert "ne connaît pas" in result.stderr
        assert "recueil db upgrade" not in result.stderr


@contextlib.contextmanager
def tiny_filesystem(path: Path, size: str) -> Iterator[Path]:
    path.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip("a small filesystem cannot be mounted here (root needed)")
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], check=True)


@pytest.mark.parametrize("size", ["16k", "64k"])  # SQLite says "disk I/O error", then "full"
def test_a_full_disk_at_start_is_explained_in_french(tmp_path: Path, size: str) -> None:
    with tiny_filesystem(tmp_path / "disk", size) as disk:
        result = recueil(tmp_path, "chat", "--jsonl", RECUEIL_DATA_DIR=str(disk))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "Plus de place sur le disque" in result.stderr


def test_export_to_a_missing_directory_is_explained_in_french(tmp_path: Path) -> None:
    result = recueil(tmp_path, "export", "-o", "/missing/dir/x.csv")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "Impossible d’utiliser" in result.stderr
    assert "/missing/dir/x.csv" in result.stderr
    assert "n’existe pas" in result.stderr


def test_a_second_recueil_run_on_the_same_sqlite_data_directory_refuses_to_start(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECUEIL_")}
    env["RECUEIL_DATA_DIR"] = str(tmp_path / "data")
    first = subprocess.Popen(
        [*RECUEIL, "run", "--as", "paul"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        env=env,
    )
    try:
        assert first.stdout is not None
        while "Quelle est votre collectivité" not in first.stdout.readline():
            assert first.poll() is None, first.communicate()
        second = recueil(tmp_path, "run", "--as", "jeanne")
        assert second.returncode == 1
        assert "Traceback" not in second.stderr
        assert "Recueil tourne déjà sur ces données" in second.stderr
        assert f"processus {first.pid}" in second.stderr
        saved = tmp_path / "sauvegarde.sqlite3"
        assert recueil(tmp_path, "db", "backup", str(saved)).returncode == 0
        restore = recueil(tmp_path, "db", "restore", str(saved))
        assert restore.returncode == 1 and "Traceback" not in restore.stderr
        # The restore's own words, not those meant for a second « recueil run ».
        assert "Restauration refusée" in restore.stderr and "PostgreSQL" not in restore.stderr
    finally:
        first.terminate()
        first.communicate(timeout=60)
    assert first.returncode == 0
    again = recueil(tmp_path, "run", "--as", "jeanne")  # the lock went with the process
    assert "tourne déjà" not in again.stderr
    assert again.returncode == 0, again.stderr


def test_the_command_line_speaks_french_in_its_usage_help_and_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found in a terminal trial: argparse's own words were English (« usage: »,
    « positional arguments », « invalid choice: … (choose from …) »)."""
    from bot.app.cli import build_parser
    from config.typography import french

    parser = build_parser()
    with pytest.raises(SystemExit) as exited:
        parser.parse_args(["export", "--what", "foo"])
    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert french("recueil export : erreur : argument --what : choix invalide : 'foo'") in error
    assert "choisir parmi 'contributions'" in error and "choose" not in error
    with pytest.raises(SystemExit):
        parser.parse_args(["export", "--bogus"])
    assert french("erreur : argument inconnu : --bogus") in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parser.parse_args(["nlp", "--help"])
    helped = capsys.readouterr().out
    assert helped.startswith(french("utilisation : recueil nlp"))
    assert french("arguments :") in helped and "afficher cette aide et quitter" in helped
    assert "positional" not in helped and "show this help" not in helped


def test_a_trial_clock_in_the_wrong_form_is_shown_the_right_one(tmp_path: Path) -> None:
    result = recueil(tmp_path, "phases", RECUEIL_NOW="16/02/2027")
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "par exemple 2027-02-16T10:00:00+01:00" in result.stderr


def test_a_closed_output_pipe_ends_quietly_like_standard_tools(tmp_path: Path) -> None:
    """Found in a trial: « recueil phases | head -1 » printed « Impossible d’utiliser « Broken
    pipe » : Broken pipe. »"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECUEIL_")}
    env["RECUEIL_DATA_DIR"] = str(tmp_path / "data")
    reader, writer = os.pipe()
    os.close(reader)  # « head » has already gone
    try:
        done = subprocess.run(
            [*RECUEIL, "phases"], stdout=writer, stderr=subprocess.PIPE, env=env, timeout=120
        )
    finally:
        os.close(writer)
    assert done.stderr.decode() == ""
    assert done.returncode == 141


@pytest.fixture
def recueil_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys):  # type: ignore[no-untyped-def]
    """``recueil …`` in this process on ``tmp_path/data``; (exit code, stdout, stderr)."""
    from bot.app.cli import main

    for name in [n for n in os.environ if n.startswith("RECUEIL_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("RECUEIL_DATA_DIR", str(tmp_path / "data"))

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, *(t.replace("\u202f", " ").replace("\u00a0", " ") for t in (out, err))  # type: ignore[return-value]

    return run


def test_a_data_directory_that_is_a_file_is_named_as_such(
    recueil_here, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """Found in a trial: « Impossible d’utiliser « …/DS » : File exists. »"""
    (tmp_path / "DS").write_text("", encoding="utf-8")
    monkeypatch.setenv("RECUEIL_DATA_DIR", str(tmp_path / "DS"))
    code, _, err = recueil_here("phases")
    assert code == 1
    assert err == (
        f"RECUEIL_DATA_DIR désigne « {tmp_path / 'DS'} », qui est un fichier : il faut un "
        "dossier. Donnez à RECUEIL_DATA_DIR le chemin d’un dossier (il est créé s’il n’existe "
        "pas), ou déplacez ce fichier.\n"
    )


def test_db_upgrade_and_current_print_only_their_french_lines(recueil_here) -> None:  # type: ignore[no-untyped-def]
    """Found in a trial: alembic's « Context impl SQLiteImpl. » lines, in English."""
    for action in ("upgrade", "current"):
        code, out, err = recueil_here("db", action)
        assert code == 0 and out.startswith("Version de la base : ")
        assert err == "", err
