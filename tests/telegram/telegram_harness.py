"""Driving the real Telegram transport against the fake Bot API, with the real engine.

``RunningBot`` starts ``TelegramTransport.run(engine.handle)`` pointed at the fake server;
``TelegramUser`` acts as a user and reads what the bot answered. A user action is complete
when the bot has acknowledged its update (asked for the next ones): the transport does that
only after the engine handled it and delivered the replies, so no sleep is ever needed.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fake_bot_api import FakeBotApi
from fake_bot_records import ChatMessage, FakeUser

from bot.app.engine import Engine
from bot.core.transport import IncomingHandler
from bot.core.values import Incoming
from bot.transports.telegram import TelegramTransport
from bot.transports.telegram.ratelimit import RateLimiter
from config.settings import Settings
from storage.store import Store

TOKEN = "7000000001:TEST-TOKEN"
T = TypeVar("T", bound=Incoming)


def telegram_settings(api: FakeBotApi, **extra: Any) -> Settings:
    return Settings(telegram_token=TOKEN, telegram_base_url=api.base_url, **extra)


@dataclass
class RunningBot:
    api: FakeBotApi
    engine: Engine
    transport: TelegramTransport
    task: asyncio.Task[None]

    async def stop(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


async def start_bot(
    api: FakeBotApi,
    engine: Engine,
    store: Store | None,
    *,
    handle: IncomingHandler | None = None,
    limiter: RateLimiter | None = None,
    settings: Settings | None = None,
    redeliver: bool = False,
) -> RunningBot:
    """Register a Telegram transport with ``engine`` and run it until the bot long-polls.

    With ``redeliver``, first send what the engine left queued, as ``recueil run`` does.
    """
    transport = TelegramTransport(
        settings or telegram_settings(api),
        catalogue=engine.services.catalogue,
        store=store,
        limiter=limiter,
    )
    engine.register(transport)
    if redeliver:
        await engine.redeliver_pending()
    task = asyncio.create_task(transport.run(handle or engine.handle))
    ready = asyncio.ensure_future(transport.ready.wait())
    done, _ = await asyncio.wait({ready, task}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        task.result()  # raises what stopped it
    assert ready in done, "the transport did not start"
    return RunningBot(api, engine, transport, task)


@dataclass
class TelegramUser:
    """A user in a private chat with the bot (chat id = user id)."""

    api: FakeBotApi
    user: FakeUser
    seen: int = 0
    last: list[ChatMessage] = field(default_factory=list)

    @property
    def chat_id(self) -> int:
        return self.user.id

    async def settle(self) -> list[ChatMessage]:
        """Wait until every update was handled and acknowledged; the new bot messages."""
        await self.api.wait_until(lambda: not self.api.pending_updates, what="updates handled")
        messages = self.api.sent_messages(self.chat_id)
        self.last = messages[self.seen :]
        self.seen = len(messages)
        return self.last

    async def say(self, text: str) -> list[ChatMessage]:
        await self.api.user_sends_text(self.user, text)
        return await self.settle()

    async def start(self, param: str | None = None) -> list[ChatMessage]:
        await self.api.user_starts(self.user, param)
        return await self.settle()

    def keyboard_message(self) -> ChatMessage:
        """The most recent bot message that still shows buttons."""
        for message in reversed(self.api.sent_messages(self.chat_id)):
            if message.buttons:
                return message
        raise AssertionError("no message with buttons in the chat")

    def button(self, label_start: str, message: ChatMessage | None = None) -> tuple[int, str]:
        """(message id, callback data) of the button whose label starts with ``label_start``."""
        message = message or self.keyboard_message()
        for button in message.buttons:
            text = (
                button["text"].split(". ", 1)[-1]
                if button["text"][:1].isdigit()
                else button["text"]
            )
            if text.startswith(label_start) or button["text"].startswith(label_start):
                return message.message_id, button["callback_data"]
        raise AssertionError(f"no button {label_start!r} in {[b['text'] for b in message.buttons]}")

    async def press(self, label_start: str) -> list[ChatMessage]:
        message_id, data = self.button(label_start)
        await self.api.user_presses_button(message_id, data, self.user)
        return await self.settle()

    @staticmethod
    def text_of(messages: list[ChatMessage]) -> str:
        return "\n".join(m.text or "" for m in messages)


class Recorder:
    """A handler that keeps every incoming value, then lets the engine handle it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.incoming: list[Incoming] = []

    async def __call__(self, incoming: Incoming) -> None:
        self.incoming.append(incoming)
        await self.engine.handle(incoming)

    def of_type(self, kind: type[T]) -> list[T]:
        return [i for i in self.incoming if isinstance(i, kind)]
