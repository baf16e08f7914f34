"""The terminal chat against what broke when probed: privacy, redirected input, long lines."""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.app.cli import chat
from bot.core.values import ConversationKey, OutText, outgoing_to_dict
from config.settings import Settings
from storage.store import Store

RECUEIL = [sys.executable, "-m", "bot.app.cli"]


def chat_output(settings: Settings, user: str, monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """``recueil chat --jsonl --as USER`` with no input: what the user sees at start."""
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    monkeypatch.setattr(sys, "stdout", out)
    asyncio.run(chat(settings, user, jsonl=True))
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_chat_as_bob_does_not_show_alices_pending_replies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(data_dir=tmp_path)
    alice = ConversationKey("console", "alice", "alice")
    store = Store.open(settings.effective_database_url)
    with store.transaction() as tx:
        tx.queue(
            alice,
            [outgoing_to_dict(OutText("Votre adresse privée : alice@mairie.fr"))],
            agent_id=None,
        )
    store.close()

    seen_by_bob = chat_output(settings, "bob", monkeypatch)
    assert not any("alice@mairie.fr" in str(line.get("text")) for line in seen_by_bob)

    seen_by_alice = chat_output(settings, "alice", monkeypatch)
    assert seen_by_alice[0] == {"type": "text", "text": "Votre adresse privée : alice@mairie.fr"}


def run_chat(tmp_path: Path, stdin: Path | str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECUEIL_")}
    env["RECUEIL_DATA_DIR"] = str(tmp_path / "data")
    with open(stdin, "rb") as source:
        return subprocess.run(
            [*RECUEIL, "chat", "--as", "marie", *args],
            stdin=source,
            capture_output=True,
            text=True,
            encoding="utf-8",
            env=env,
            timeout=120,
        )


@pytest.mark.parametrize("source", ["file", "/dev/null"])
def test_chat_jsonl_reads_stdin_redirected_from_a_file_or_dev_null(
    tmp_path: Path, source: str
) -> None:
    # Only pipes and terminals used to work: epoll refuses regular files (PermissionError).
    if source == "file":
        stdin = tmp_path / "script.jsonl"
        stdin.write_text('{"text": "Villeurbanne"}\n', encoding="utf-8")
    else:
        stdin = Path(source)
    result = run_chat(tmp_path, stdin, "--jsonl")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    readies = [line for line in lines if line["type"] == "ready"]
    assert len(readies) == (2 if source == "file" else 1)
    if source == "file":
        assert lines[-2]["type"] == "choices"  # Villeurbanne found, the profile goes on


def test_a_one_mebibyte_line_is_refused_whole_and_its_tail_is_not_an_answer(
    tmp_path: Path,
) -> None:
    stdin = tmp_path / "long.txt"
    stdin.write_bytes(b"Villeurbanne" * (1024 * 1024 // 12 + 1) + b"\n")
    result = run_chat(tmp_path, stdin)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("Ligne ignorée en entier") == 1
    after = result.stdout.split("Ligne ignorée en entier", 1)[1]
    assert after.strip().endswith("envoyez un texte plus court.")  # nothing answered after it
    assert "Villeurbanne" not in result.stdout


def test_a_two_megabyte_json_line_gives_one_message_and_one_ready(tmp_path: Path) -> None:
    stdin = tmp_path / "long.jsonl"
    huge = json.dumps({"text": "é" * 1_000_000}, ensure_ascii=False)  # 2 MB in UTF-8
    stdin.write_text(huge + '\n{"text": "Villeurbanne"}\n', encoding="utf-8")
    result = run_chat(tmp_path, stdin, "--jsonl")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    greeting_end = lines.index({"type": "ready"})
    huge_reply, next_reply = _split_at_ready(lines[greeting_end + 1 :])
    assert [line["type"] for line in huge_reply] == ["error"]
    assert "Ligne ignorée en entier" in str(huge_reply[0]["text"])
    assert next_reply[-1]["type"] == "choices"  # the next line is read as itself


def _split_at_ready(lines: list[dict]) -> tuple[list[dict], list[dict]]:
    first = lines.index({"type": "ready"})
    second = lines.index({"type": "ready"}, first + 1)
    assert second == len(lines) - 1
    return lines[:first], lines[first + 1 : second]
