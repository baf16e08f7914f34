"""A transport that collects replies, and simulated agents that talk through it."""

from __future__ import annotations

import itertools
from collections import defaultdict

from bot.app.engine import Engine
from bot.core.transport import Capability, Transport
from bot.core.values import (
    ConversationKey,
    IncomingAttachment,
    IncomingChoice,
    IncomingStart,
    IncomingText,
    OutChoices,
    Outgoing,
    OutText,
)

_event_ids = itertools.count(1)


class FakeTransport(Transport):
    """Keeps every outgoing value per conversation; ``pop`` takes what arrived since.

    A conversation in ``down`` cannot be reached (its messages stay queued), like a
    messaging server out of order for that user."""

    name = "test"
    capabilities = frozenset({Capability.BUTTONS, Capability.POLLS, Capability.FILES})

    def __init__(self) -> None:
        super().__init__()
        self.sent: dict[ConversationKey, list[Outgoing]] = defaultdict(list)
        self._read: dict[ConversationKey, int] = defaultdict(int)
        self.down: set[ConversationKey] = set()

    async def send(
        self, key: ConversationKey, message: Outgoing, *, idempotency: str | None = None
    ) -> None:
        if key in self.down:
            raise ConnectionError("messagerie injoignable")
        self.sent[key].append(message)

    async def send_text(self, key: ConversationKey, text: str) -> None:
        self.sent[key].append(OutText(text))

    def pop(self, key: ConversationKey) -> list[Outgoing]:
        fresh = self.sent[key][self._read[key] :]
        self._read[key] = len(self.sent[key])
        return fresh


class SimulatedAgent:
    """An agent typing in a private chat with the bot."""

    def __init__(self, engine: Engine, transport: FakeTransport, user: str) -> None:
        self.engine = engine
        self.transport = transport
        self.key = ConversationKey("test", f"dm-{user}", user)
        self.last: list[Outgoing] = []

    async def _run(self, incoming: object) -> list[Outgoing]:
        await self.engine.handle(incoming)  # type: ignore[arg-type]
        self.last = self.transport.pop(self.key)
        return self.last

    def _event(self) -> str:
        return f"ev-{next(_event_ids)}"

    async def start(self, param: str | None = None) -> list[Outgoing]:
        return await self._run(IncomingStart(key=self.key, event_id=self._event(), param=param))

    async def say(self, text: str, event_id: str | None = None) -> list[Outgoing]:
        return await self._run(
            IncomingText(key=self.key, event_id=event_id or self._event(), text=text)
        )

    async def press(self, choice_id: str, token: str | None = None) -> list[Outgoing]:
        question = self.question
        return await self._run(
            IncomingChoice(
                key=self.key,
                event_id=self._event(),
                choice_id=choice_id,
                token=token if token is not None else (question.token if question else None),
            )
        )

    async def send_file(self) -> list[Outgoing]:
        return await self._run(
            IncomingAttachment(key=self.key, event_id=self._event(), kind="image")
        )

    @property
    def question(self) -> OutChoices | None:
        for message in reversed(self.last):
            if isinstance(message, OutChoices):
                return message
        return None

    @property
    def text(self) -> str:
        """Everything the bot said in its last replies, as one text."""
        parts = []
        for message in self.last:
            if isinstance(message, OutChoices):
                parts.append(message.text + "\n" + "\n".join(c.label for c in message.choices))
            else:
                parts.append(getattr(message, "text", ""))
        return "\n".join(parts)

    def option(self, label_start: str) -> str:
        """The id of the offered choice whose label starts with ``label_start``."""
        question = self.question
        assert question is not None, f"no choices in: {self.text}"
        for choice in question.choices:
            if choice.label.startswith(label_start):
                return choice.id
        raise AssertionError(f"no choice starting with {label_start!r} in {question.choices}")
