"""``recueil …`` run in the test's process, its output read back without French spacing."""

from __future__ import annotations

from collections.abc import Callable

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


def plain(text: str) -> str:
    """French typography's narrow and non-breaking spaces as plain ones, for assertions."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")
