"""Webhook mode: Telegram posts each update to us; we answer once it is handled.

Every request must carry the secret token given to ``setWebhook`` in the
``X-Telegram-Bot-Api-Secret-Token`` header; others get 403 and are not read. The answer
(200) is sent only after the update was handled, so an update in hand at a crash is posted
again by Telegram, and the engine drops it if it had been handled. The webhook is left in
place at shutdown: Telegram keeps the updates that arrive meanwhile.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
import secrets
from collections.abc import Callable
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Bot, Update

from bot.transports.telegram.dispatch import Dispatcher
from bot.transports.telegram.errors import TelegramConfigError
from bot.transports.telegram.updates import ALLOWED_UPDATES

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


def webhook_secret(configured: str | None) -> str:
    """The configured secret, checked against Telegram's rules, or a fresh random one."""
    if configured is None:
        return secrets.token_urlsafe(32)
    if not _SECRET.fullmatch(configured):
        raise TelegramConfigError(
            "RECUEIL_TELEGRAM_WEBHOOK_SECRET : 1 à 256 caractères parmi A-Z, a-z, 0-9, _ et -"
        )
    return configured


class WebhookServer:
    def __init__(
        self,
        bot: Bot,
        dispatcher: Dispatcher,
        *,
        url: str,
        secret: str,
        listen: str,
        port: int,
    ) -> None:
        self.bot = bot
        self.dispatcher = dispatcher
        self.url = url
        self.secret = secret
        self.listen = listen
        self.port = port
        self.path = urlsplit(url).path or "/"

    async def serve(self, ready: Callable[[], None] | None = None) -> None:
        """Listen, register the webhook with Telegram, and serve until cancelled."""
        app = web.Application(client_max_size=1024 * 1024)
        app.router.add_post(self.path, self._receive)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.listen, self.port).start()
            await self.bot.set_webhook(
                self.url,
                secret_token=self.secret,
                allowed_updates=list(ALLOWED_UPDATES),
                drop_pending_updates=False,
            )
            log.info("webhook listening on %s:%s%s", self.listen, self.port, self.path)
            if ready is not None:
                ready()
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()

    async def _receive(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            log.warning("webhook request without the right secret refused")
            return web.Response(status=403)
        try:
            update = Update.de_json(await request.json(), self.bot)
        except Exception:  # whatever PTB makes of a malformed body, it is not an update
            return web.Response(status=400)
        await self.dispatcher.process_one(update)
        return web.Response(status=200)
