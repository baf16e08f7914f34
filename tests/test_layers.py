"""Layers point one way: the modules below never import the ones above."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_storage_never_imports_bot() -> None:
    def imports_bot(source: str) -> list[str]:
        found = []
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            found += [f"line {node.lineno}: {n}" for n in names if n.split(".")[0] == "bot"]
        return found

    # the check itself must see both spellings, even inside a function
    assert imports_bot("import bot.values\ndef f():\n    from bot import engine\n") == [
        "line 1: bot.values",
        "line 3: bot",
    ]
    files = sorted((ROOT / "storage").rglob("*.py"))
    assert len(files) > 10
    offenders = {
        str(path.relative_to(ROOT)): found
        for path in files
        if (found := imports_bot(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}
