"""The Telegram transport: the core's values as native Telegram messages, and back.

Questions with choices become inline keyboards, polls native polls (or keyboards when they
do not fit), files documents, and PNG or JPEG images photos (shown in the chat). Updates come
by long polling, or by webhook when ``RECUEIL_TELEGRAM_WEBHOOK_URL`` is set. Every send is
paced (see ``ratelimit``).
"""

from __future__ import annotations

import asyncio
import io
import logging

from telegram import Bot, BotCommand, InlineKeyboardMarkup, InputFile, Message
from telegram.constants import MessageLimit
from telegram.error import InvalidToken, TelegramError
from telegram.request import HTTPXRequest

from bot.commands import build_commands
from bot.core.transport import Capability, IncomingHandler, Transport
from bot.core.values import ConversationKey, OutChoices, OutFile, OutPoll
from bot.transports.telegram.ballots import Ballots
from bot.transports.telegram.context import replying_to
from bot.transports.telegram.dispatch import Dispatcher
from bot.transports.telegram.errors import TelegramConfigError, TelegramSendError, translate
from bot.transports.telegram.keyboards import Keyboards
from bot.transports.telegram.polling import LONG_POLL_SECONDS, poll_updates
from bot.transports.telegram.ratelimit import RateLimiter
from bot.transports.telegram.registry import MemoryRegistry, Registry, StoreRegistry
from bot.transports.telegram.rendering import (
    choices_keyboard,
    question_text,
    split_text,
    truncate,
)
from bot.transports.telegram.sender import Sender
from bot.transports.telegram.updates import UpdateRouter
from bot.transports.telegram.webhook import WebhookServer, webhook_secret
from config.catalogue import Catalogue
from config.settings import Settings
from storage.store import Store

log = logging.getLogger(__name__)

DEFAULT_API = "https://api.telegram.org"
PHOTO_TYPES = frozenset({"image/png", "image/jpeg"})
PHOTO_MAX_BYTES = 10 * 1024 * 1024
"""Telegram's limit for ``sendPhoto``; a larger image goes as a document."""


def api_urls(base_url: str | None) -> tuple[str, str]:
    """PTB's ``base_url`` and ``base_file_url`` for a Bot API server's address.

    ``http://host:8081`` and ``http://host:8081/bot`` both mean the server at that address.
    """
    root = (base_url or DEFAULT_API).rstrip("/").removesuffix("/bot")
    return f"{root}/bot", f"{root}/file/bot"


def build_bot(settings: Settings) -> Bot:
    # httpx logs every request URL at INFO, and the Bot API puts the token in the URL.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLogger("httpx").level))
    if settings.telegram_token is None:
        raise TelegramConfigError("RECUEIL_TELEGRAM_TOKEN : valeur obligatoire pour Telegram")
    base_url, base_file_url = api_urls(settings.telegram_base_url)
    return Bot(
        settings.telegram_token.get_secret_value(),
        base_url=base_url,
        base_file_url=base_file_url,
        request=HTTPXRequest(
            connection_pool_size=64, pool_timeout=30.0, read_timeout=30.0, write_timeout=30.0
        ),
        get_updates_request=HTTPXRequest(connection_pool_size=2, read_timeout=10.0),
    )


class TelegramTransport(Transport):
    """``ConversationKey("telegram", chat id, user id)``; private chats have chat = user."""

    name = "telegram"
    capabilities = frozenset({Capability.BUTTONS, Capability.POLLS, Capability.FILES})

    def __init__(
        self,
        settings: Settings,
        *,
        catalogue: Catalogue | None = None,
        store: Store | None = None,
        limiter: RateLimiter | None = None,
        poll_timeout: int = LONG_POLL_SECONDS,
    ) -> None:
        super().__init__(catalogue)
        self.menu = build_commands().menu(self.catalogue)
        """Telegram's ``/`` menu, generated from the command registry."""
        self.settings = settings
        self.bot = build_bot(settings)
        self.poll_timeout = poll_timeout
        self.limiter = limiter or RateLimiter()
        self.sender = Sender(self._ready_bot, self.limiter)
        registry: Registry = StoreRegistry(store) if store is not None else MemoryRegistry()
        self.keyboards = Keyboards(registry, self.sender, self.catalogue)
        self.ballots = Ballots(registry, self.sender, self.catalogue)
        self.router = UpdateRouter(
            self.keyboards, self.ballots, self.sender, self.catalogue, self._username
        )
        self.ready = asyncio.Event()
        """Set once updates are being received (polling started or webhook registered)."""
        self._init_lock = asyncio.Lock()
        self._started = False

    async def _ready_bot(self) -> Bot:
        """The bot, initialised on first use (sends may precede ``run``: redeliveries)."""
        if self._started:
            return self.bot
        async with self._init_lock:
            try:
                await self.bot.initialize()
                self._started = True
            except InvalidToken as error:
                raise TelegramConfigError(
                    "RECUEIL_TELEGRAM_TOKEN : jeton refusé par Telegram"
                ) from error
            except TelegramError as error:
                raise translate(error, "getMe") from error
        return self.bot

    async def _connect(self) -> Bot:
        """Reach Telegram, waiting out network failures; a refused token is fatal."""
        backoff = 1.0
        while True:
            try:
                return await self._ready_bot()
            except TelegramSendError as error:
                log.warning("Telegram unreachable (%s); retrying in %.0f s", error, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)

    def _username(self) -> str | None:
        return self.bot.username if self._started else None

    # -- receiving ------------------------------------------------------------------------

    async def run(self, handle: IncomingHandler) -> None:
        """Receive updates until cancelled."""
        dispatcher = Dispatcher(self.router, handle)
        try:
            bot = await self._connect()
            await self.register_commands()
            mode = "webhook" if self.settings.telegram_webhook_url else "long polling"
            log.info("Telegram: connected as @%s (%s)", bot.username, mode)
            if self.settings.telegram_webhook_url:
                secret = self.settings.telegram_webhook_secret
                server = WebhookServer(
                    bot,
                    dispatcher,
                    url=self.settings.telegram_webhook_url,
                    secret=webhook_secret(secret.get_secret_value() if secret else None),
                    listen=self.settings.telegram_webhook_listen,
                    port=self.settings.telegram_webhook_port,
                )
                await server.serve(ready=self.ready.set)
            else:
                await poll_updates(
                    self._ready_bot, dispatcher, long_poll=self.poll_timeout, ready=self.ready.set
                )
        finally:
            await self.aclose()

    async def register_commands(self) -> None:
        """The ``/`` menu, in French; a failure costs only the menu."""
        # the registry's menu entries; the core understands them with or without ``/``
        commands = [BotCommand(name, text) for name, text in self.menu]
        try:
            await self.bot.set_my_commands(commands)
        except TelegramError as error:
            log.warning("commands not registered with Telegram: %s", error.message)

    async def aclose(self) -> None:
        await self.limiter.aclose()
        if self._started:
            self._started = False
            await self.bot.shutdown()

    # -- sending --------------------------------------------------------------------------

    @staticmethod
    def _chat(key: ConversationKey) -> int:
        return int(key.chat)

    @staticmethod
    def _paced(chat_id: int) -> bool:
        """Pushes are paced per chat; a turn's replies, awaited by the user, are not."""
        return replying_to.get() != chat_id

    async def _message(
        self, chat_id: int, text: str, keyboard: InlineKeyboardMarkup | None = None
    ) -> Message:
        """Send ``text`` (cut to Telegram's length); the last part carries the keyboard."""
        chunks = split_text(text)
        paced = self._paced(chat_id)
        for chunk in chunks[:-1]:
            await self._send_message(chat_id, chunk, None, paced=paced)
        return await self._send_message(chat_id, chunks[-1], keyboard, paced=paced)

    async def _send_message(
        self, chat_id: int, text: str, keyboard: InlineKeyboardMarkup | None, *, paced: bool
    ) -> Message:
        async def send(bot: Bot) -> Message:
            return await bot.send_message(chat_id, text, reply_markup=keyboard)

        return await self.sender.send(chat_id, send, paced=paced, what="sendMessage")

    async def send_text(self, key: ConversationKey, text: str) -> None:
        await self._message(self._chat(key), text)

    async def send_choices(self, key: ConversationKey, message: OutChoices) -> None:
        chat_id = self._chat(key)
        text = question_text(message, self.catalogue)
        keyboard = choices_keyboard(message)
        sent = await self._message(chat_id, text, keyboard)
        try:
            await self.keyboards.remember(chat_id, sent.message_id, message, sent.text or "")
        except Exception:
            # The question is on screen: failing here would have the engine send it again.
            # An unrecorded keyboard only stays on screen until a later one is retired.
            log.exception("keyboard %s in chat %s sent but not recorded", sent.message_id, chat_id)

    async def send_poll(self, key: ConversationKey, message: OutPoll) -> None:
        chat_id = self._chat(key)
        await self.ballots.send(chat_id, message, paced=self._paced(chat_id))

    async def send_file(self, key: ConversationKey, message: OutFile) -> None:
        chat_id = self._chat(key)
        caption = truncate(message.caption, int(MessageLimit.CAPTION_LENGTH)) or None

        def upload() -> InputFile:  # one per attempt: a retry after a flood wait sends it whole
            return InputFile(io.BytesIO(message.content), filename=message.name)

        if message.mime in PHOTO_TYPES and len(message.content) <= PHOTO_MAX_BYTES:
            await self.sender.send(
                chat_id,
                lambda bot: bot.send_photo(chat_id, upload(), caption=caption),
                paced=self._paced(chat_id),
                what="sendPhoto",
            )
            return
        await self.sender.send(
            chat_id,
            lambda bot: bot.send_document(chat_id, upload(), caption=caption),
            paced=self._paced(chat_id),
            what="sendDocument",
        )

    async def close_poll(self, key: ConversationKey, poll_id: str) -> int:
        """Stop the core's poll ``poll_id`` in this conversation; returns the parts closed."""
        return await self.ballots.close(self._chat(key), poll_id)
