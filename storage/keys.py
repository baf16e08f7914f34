"""Values the storage layer shares with the bot, defined here so that storage never imports it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ConversationKey:
    """Who the bot talks to, where: ids from two platforms may collide, so all three count."""

    transport: str
    chat: str
    user: str

    def __str__(self) -> str:
        return f"{self.transport}:{self.chat}:{self.user}"
