"""Webhook mode: the secret is checked on every request; Telegram gets 200 once handled."""

from __future__ import annotations

import json
import socket

import aiohttp
from fake_bot_records import FakeUser
from telegram_harness import start_bot, telegram_settings

from bot.transports.telegram.webhook import SECRET_HEADER
from storage.store import Store

SECRET = "s3cret_webhook-Token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_webhook_checks_the_secret_and_answers_once_the_update_is_handled(
    fake_bot_api, engine, store: Store
) -> None:
    api = fake_bot_api
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/recueil"
    settings = telegram_settings(
        api,
        telegram_webhook_url=url,
        telegram_webhook_secret=SECRET,
        telegram_webhook_listen="127.0.0.1",
        telegram_webhook_port=port,
    )
    bot = await start_bot(api, engine, store, settings=settings)
    try:
        [registration] = api.calls_to("setWebhook")
        assert api.webhook_url == url
        assert registration.params["secret_token"] == SECRET
        assert json.loads(registration.params["allowed_updates"]) == [
            "message",
            "callback_query",
            "poll_answer",
        ]
        assert not api.calls_to("getUpdates")

        # What Telegram would post: the fake builds the update, we deliver it.
        await api.user_starts(FakeUser(id=404), "invitation-42")
        update = api.pending_updates[-1]
        async with aiohttp.ClientSession() as http:
            for headers in ({}, {SECRET_HEADER: "wrong"}):
                async with http.post(url, json=update, headers=headers) as response:
                    assert response.status == 403
            assert api.sent_messages(404) == []

            async with http.post(url, json=update, headers={SECRET_HEADER: SECRET}) as response:
                assert response.status == 200
            # Answered only after handling: the replies are already there.
            assert "Bonjour et bienvenue" in (api.sent_messages(404)[0].text or "")
            count = len(api.sent_messages(404))

            # Telegram posts again when it got no answer: handled once all the same.
            async with http.post(url, json=update, headers={SECRET_HEADER: SECRET}) as response:
                assert response.status == 200
            assert len(api.sent_messages(404)) == count

            async with http.post(
                url, data=b"not json", headers={SECRET_HEADER: SECRET}
            ) as response:
                assert response.status == 400
    finally:
        await bot.stop()
    assert api.webhook_url == url  # left in place: Telegram keeps updates while we are down
