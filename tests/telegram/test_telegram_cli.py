"""``recueil run`` with RECUEIL_TELEGRAM_TOKEN and RECUEIL_TELEGRAM_BASE_URL, as deployed."""

from __future__ import annotations

from pathlib import Path

from fake_bot_api import FakeBotApi
from recueil_process import recueil_run

TOKEN = "123456:secret-telegram-token"


async def test_recueil_run_with_a_telegram_token_and_stopping_without_a_crash(
    fake_bot_api: FakeBotApi, tmp_path: Path
) -> None:
    async with recueil_run(
        RECUEIL_DATA_DIR=str(tmp_path),
        RECUEIL_TELEGRAM_TOKEN=TOKEN,
        RECUEIL_TELEGRAM_BASE_URL=fake_bot_api.base_url,
    ) as running:
        await fake_bot_api.user_starts(4242, "campagne-2027")
        messages = await fake_bot_api.wait_for_messages(4242, 2, timeout=90)
        assert "Bonjour et bienvenue" in messages[0].text
        assert "Quelle est votre collectivité" in messages[-1].text
        await fake_bot_api.user_sends_text(4242, "Villeurbanne")
        messages = await fake_bot_api.wait_for_messages(4242, 3, timeout=30)
        assert "Vous êtes" in messages[-1].text
        assert messages[-1].reply_markup is not None  # the choices as buttons
    assert running.process.returncode == 0, running.journal
    assert "secret-telegram-token" not in running.journal  # the token never reaches the journal
