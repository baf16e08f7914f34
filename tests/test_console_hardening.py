"""The terminal chat against what broke when probed: privacy, redirected input, long lines."""

from __future__ import annotations

import asyncio
import io
import json
import sys
from pathlib import Path

import pytest

from bot.app.cli import chat
from bot.core.values import ConversationKey, OutText
from config.settings import Settings
from storage.store import Store


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
        tx.queue(alice, [OutText("Votre adresse privée : alice@mairie.fr")], agent_id=None)
    store.close()

    seen_by_bob = chat_output(settings, "bob", monkeypatch)
    assert not any("alice@mairie.fr" in str(line.get("text")) for line in seen_by_bob)

    seen_by_alice = chat_output(settings, "alice", monkeypatch)
    assert seen_by_alice[0] == {"type": "text", "text": "Votre adresse privée : alice@mairie.fr"}
