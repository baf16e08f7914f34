"""The transport protocol and the fallback rendering every adapter inherits.

An adapter overrides what its platform does natively (buttons, polls, files); everything
else is rendered as numbered text. A value that an adapter cannot render raises
:class:`UnsupportedMessage` instead of being dropped.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import ClassVar

from bot.core.values import (
    ConversationKey,
    Incoming,
    OutChoices,
    OutFile,
    Outgoing,
    OutPoll,
    OutText,
)
from config.catalogue import Catalogue, default_catalogue

IncomingHandler = Callable[[Incoming], Awaitable[None]]


class Capability(StrEnum):
    """What a platform renders natively; scenes may rely on the fallback for the rest.

    ``BUTTONS``: choices as buttons; ``POLLS``: native polls (answers come back as
    :class:`~bot.core.values.IncomingPollAnswer`, and :meth:`Transport.close_poll` ends them);
    ``FILES``: :class:`~bot.core.values.OutFile`; ``FORMATTING``: rich text.
    """

    BUTTONS = "buttons"
    POLLS = "polls"
    FILES = "files"
    FORMATTING = "formatting"


class UnsupportedMessage(Exception):
    """The transport has no way to render this outgoing value."""


class DeliveryRefused(Exception):
    """The platform refuses delivery to this user for good (e.g. they blocked the bot)."""


class Transport(ABC):
    """Base adapter: ``send`` dispatches on the value, falling back to numbered text."""

    name: ClassVar[str]
    capabilities: ClassVar[frozenset[Capability]] = frozenset()

    def __init__(self, catalogue: Catalogue | None = None) -> None:
        self.catalogue = catalogue or default_catalogue()

    async def send(
        self, key: ConversationKey, message: Outgoing, *, idempotency: str | None = None
    ) -> None:
        """Render ``message`` for ``key``'s conversation.

        ``idempotency``: a key the engine gives each delivery, the same when it sends the
        delivery again (after a restart that lost the mark « sent »); a platform that
        deduplicates by it (Matrix transaction ids) then shows the message once.
        """
        match message:
            case OutText():
                await self.send_text(key, message.text)
            case OutChoices() if Capability.BUTTONS in self.capabilities:
                await self.send_choices(key, message)
            case OutChoices():
                await self.send_text(key, render_choices(message, self.catalogue))
            case OutPoll() if Capability.POLLS in self.capabilities:
                await self.send_poll(key, message)
            case OutPoll():
                await self.send_text(key, render_poll(message, self.catalogue))
            case OutFile() if Capability.FILES in self.capabilities:
                await self.send_file(key, message)
            case _:
                raise UnsupportedMessage(f"{self.name} cannot render {type(message).__name__}")

    @abstractmethod
    async def send_text(self, key: ConversationKey, text: str) -> None: ...

    def reaches(self, key: ConversationKey) -> bool:
        """Whether this adapter can deliver to ``key``'s conversation.

        A platform adapter reaches every conversation of its platform; the terminal reaches
        only the user sitting at it, so another console user's replies stay queued.
        """
        return key.transport == self.name

    def emails_of(self, user_id: str) -> tuple[str, ...]:
        """The professional addresses a platform identity may stand for (Tchap ids do),
        most likely first; empty when the platform says nothing."""
        return ()

    async def send_choices(self, key: ConversationKey, message: OutChoices) -> None:
        raise UnsupportedMessage(f"{self.name} declares buttons but does not send them")

    async def send_poll(self, key: ConversationKey, message: OutPoll) -> None:
        raise UnsupportedMessage(f"{self.name} declares polls but does not send them")

    async def send_file(self, key: ConversationKey, message: OutFile) -> None:
        raise UnsupportedMessage(f"{self.name} declares files but does not send them")

    def forget(self, key: ConversationKey) -> int:
        """Delete what this transport keeps for ``key``'s user outside the database, after
        they erased their data (``supprimer mes données``); returns how many files went.
        Nothing by default: only the terminal keeps files (the platforms send them)."""
        return 0

    async def close_poll(self, key: ConversationKey, poll_id: str) -> int:
        """End the core's poll ``poll_id`` in ``key``'s conversation, so that no vote can be
        cast there any more; returns how many platform polls were ended (0: none open, or
        no native polls on this platform, where polls were numbered text)."""
        return 0


def numbered(labels: list[str]) -> str:
    return "\n".join(f"{index}. {label}" for index, label in enumerate(labels, start=1))


def render_choices(message: OutChoices, catalogue: Catalogue) -> str:
    hint = "render.choices_hint_multiple" if message.multiple else "render.choices_hint"
    return "\n\n".join(
        (message.text, numbered([c.label for c in message.choices]), catalogue.t(hint))
    )


def render_poll(message: OutPoll, catalogue: Catalogue) -> str:
    """A poll as text. With a way to answer in words (``text_hint``: « soutenir P-012 »), its
    options are bullets, not numbers: a number typed would answer the question that follows
    (the menu), never the poll."""
    labels = [c.label for c in message.options]
    if message.text_hint:
        options, hint = "\n".join(f"• {label}" for label in labels), message.text_hint
    else:
        key = "render.poll_hint_multiple" if message.multiple else "render.poll_hint"
        options, hint = numbered(labels), catalogue.t(key)
    return "\n\n".join((message.question, options, hint))
