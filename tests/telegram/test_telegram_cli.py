"""``recueil run`` with RECUEIL_TELEGRAM_TOKEN and RECUEIL_TELEGRAM_BASE_URL, as deployed."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from fake_bot_api import FakeBotApi

TOKEN = "123456:secret-telegram-token"


async def test_recueil_run_with_a_telegram_token_and_stopping_without_a_crash(
    fake_bot_api: FakeBotApi, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECUEIL_")}
    env.update(
        RECUEIL_DATA_DIR=str(tmp_path),
        RECUEIL_TELEGRAM_TOKEN=TOKEN,
        RECUEIL_TELEGRAM_BASE_URL=fake_bot_api.base_url,
        PYTHONFAULTHANDLER="1",
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await fake_bot_api.user_starts(4242, "campagne-2027")
        messages = await fake_bot_api.wait_for_messages(4242, 3, timeout=90)
        assert "Bonjour et bienvenue" in messages[0].text
        assert "Quelle est votre collectivité" in messages[-1].text
        await fake_bot_api.user_sends_text(4242, "Villeurbanne")
        messages = await fake_bot_api.wait_for_messages(4242, 4, timeout=30)
        assert "Vous êtes" in messages[-1].text
        assert messages[-1].reply_markup is not None  # the choices as buttons
    finally:
        process.terminate()
        _, errors = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, errors.decode()
    assert "secret-telegram-token" not in errors.decode()  # the token never reaches the journal
