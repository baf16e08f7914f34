"""``recueil …`` run in the test's process, its output read back without French spacing."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.app.cli import main

Recueil = Callable[..., tuple[int, str, str]]


def in_process(capsys: pytest.CaptureFixture[str]) -> Recueil:
    """A runner: ``run("db", "backup", …)`` gives (exit code, stdout, stderr), plain."""

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, plain(out), plain(err)

    return run


def isolated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Recueil:
    """A runner on a fresh SQLite base in ``tmp_path/data``, no other ``RECUEIL_*`` setting
    of the environment seen."""
    for name in [n for n in os.environ if n.startswith("RECUEIL_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("RECUEIL_DATA_DIR", str(tmp_path / "data"))
    return in_process(capsys)


def plain(text: str) -> str:
    """French typography's narrow and non-breaking spaces as plain ones, for assertions."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")
