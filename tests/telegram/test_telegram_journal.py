"""``recueil run`` journal and supervision, against the fake Bot API over real HTTP."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from fake_bot_api import FakeBotApi
from recueil_process import RunningBot, recueil_run

TOKEN = "123456:secret-telegram-token"


async def journal_until(running: RunningBot, marker: str) -> str:
    """What the bot wrote on stderr since the previous call, up to the first line containing
    ``marker``."""
    return await running.journal_until(marker)


@pytest.mark.parametrize("log_format", ["text", "json"])
async def test_a_rejected_telegram_token_never_reaches_the_journal(
    fake_bot_api: FakeBotApi, tmp_path: Path, log_format: str
) -> None:
    # PTB's "The token `123:SECRET…` was rejected" and httpx's DEBUG URLs used to show it.
    fake_bot_api.inject_error("getMe", 401, "Unauthorized", n=1000)
    async with recueil_run(
        RECUEIL_DATA_DIR=str(tmp_path),
        RECUEIL_TELEGRAM_TOKEN=TOKEN,
        RECUEIL_TELEGRAM_BASE_URL=fake_bot_api.base_url,
        RECUEIL_LOG_LEVEL="DEBUG",
        RECUEIL_LOG_FORMAT=log_format,
    ) as running:
        journal = await journal_until(running, "transport telegram stopped")
    journal += running.journal
    assert "secret-telegram-token" not in journal
    assert "[secret masqué]" in journal  # the token was there, in URLs and the traceback
    assert "was rejected" in journal
    if log_format == "json":
        entries = [json.loads(line) for line in journal.splitlines() if line.strip()]
        assert {"time", "level", "logger", "message"} <= set(entries[0])
        assert any("Traceback" in entry.get("exception", "") for entry in entries)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_an_unreachable_matrix_homeserver_does_not_stop_telegram(
    fake_bot_api: FakeBotApi, tmp_path: Path
) -> None:
    # It used to stop the whole bot at start: rc 1 and a hundred lines of traceback.
    async with recueil_run(
        RECUEIL_DATA_DIR=str(tmp_path),
        RECUEIL_TELEGRAM_TOKEN=TOKEN,
        RECUEIL_TELEGRAM_BASE_URL=fake_bot_api.base_url,
        RECUEIL_MATRIX_HOMESERVER=f"http://127.0.0.1:{closed_port()}",
        RECUEIL_MATRIX_USER_ID="@recueil:localhost",
        RECUEIL_MATRIX_PASSWORD="mot-de-passe-matrix",
    ) as running:
        failure = await journal_until(running, "transport matrix stopped")
        await fake_bot_api.user_starts(4242)
        messages = await fake_bot_api.wait_for_messages(4242, 2, timeout=90)
        assert "Quelle est votre collectivité" in messages[-1].text
        await journal_until(running, "transport matrix stopped")  # and it is retried
    assert running.process.returncode == 0, running.journal
    assert "next start in 1 s" in failure
    assert "mot-de-passe-matrix" not in failure + running.journal
