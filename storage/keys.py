"""Values the storage layer shares with the bot, defined here so that storage never imports it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


def pseudonym(identifier: str) -> str:
    """A short stable stand-in for a user or chat id in the journal (12 hex digits)."""
    return hashlib.blake2b(identifier.encode(), digest_size=6, person=b"recueil").hexdigest()


@dataclass(frozen=True, slots=True)
class ConversationKey:
    """Who the bot talks to, where: ids from two platforms may collide, so all three count."""

    transport: str
    chat: str
    user: str

    def __str__(self) -> str:
        """How the journal names the conversation: the transport and a pseudonym, no id.

        Platform ids are personal data (a Tchap id holds the agent's e-mail address); the
        pseudonym is stable, so one agent's lines can still be followed.
        """
        return f"{self.transport}:{pseudonym(f'{self.chat}/{self.user}')}"
