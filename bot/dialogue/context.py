"""What a dialogue turn can use: the services, the open transaction, the agent, the time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.core.values import ConversationKey
from bot.dialogue.commands import CommandRegistry
from bot.dialogue.scene import SceneRegistry
from bot.forms.base import Form
from config.calendar import Calendar
from config.catalogue import Catalogue
from config.settings import Settings
from config.taxonomy import Taxonomy
from nlp.classifier import Classifier
from storage.referential import Referential
from storage.store import AgentRecord, Tx

if TYPE_CHECKING:
    from bot.consultation.recurrence import SimilarIndex


PollHandler = Callable[["Context", str, tuple[str, ...], tuple[str, ...]], tuple[str, bool]]
"""Turns a poll answer (the poll id, the options chosen now, those of the answer before)
into what it changes; returns the reply, and whether the answer counted (then it is the
one before the next)."""


@dataclass(frozen=True, slots=True)
class Services:
    """Long-lived, read-only parts shared by every turn."""

    settings: Settings
    catalogue: Catalogue
    taxonomy: Taxonomy
    calendar: Calendar
    referential: Referential
    classifier: Classifier
    forms: dict[str, Form]
    scenes: SceneRegistry
    commands: CommandRegistry
    polls: dict[str, PollHandler] = field(default_factory=dict)
    """Answers to the bot's polls, by the prefix of the poll id (``vote`` for ``vote-…``)."""
    similar: SimilarIndex | None = None  # same-need search; None: the step is skipped


@dataclass(slots=True)
class Context:
    """One turn: the services, the transaction it runs in, who is talking, and when."""

    services: Services
    tx: Tx
    key: ConversationKey
    agent: AgentRecord | None
    now: datetime
    platform_emails: tuple[str, ...] = ()  # what the platform says of the user (Tchap)
    can_send_files: bool = True
    pushed: list[ConversationKey] = field(default_factory=list)
    """Conversations this turn queued messages for (an administrator's push): sent after."""
    forget_after_delivery: bool = False  # erased: delete this turn's replies once delivered

    def t(self, key: str, **values: Any) -> str:
        return self.services.catalogue.t(key, **values)

    def t_team(self, key: str, **values: Any) -> str:
        """A message that may send the user to the consultation's team: its ``.contact``
        form, with the address to write to (``RECUEIL_TEAM_CONTACT``), or else its
        ``.no_contact`` form, which promises no team the user cannot reach. A message
        without the two forms is the plain ``key``."""
        if self.catalogue.has(key):
            return self.t(key, **values)
        contact = self.services.settings.team_contact.strip()
        if contact:
            return self.t(f"{key}.contact", contact=contact, **values)
        return self.t(f"{key}.no_contact", **values)

    @property
    def local_now(self) -> datetime:
        """Now in the consultation's time zone (``RECUEIL_TIMEZONE``): the time users read,
        in file names and dates."""
        return self.now.astimezone(self.services.calendar.zone)

    @property
    def platform_email(self) -> str | None:
        """The most likely of the platform's addresses, kept (privately) with the profile."""
        return self.platform_emails[0] if self.platform_emails else None

    @property
    def catalogue(self) -> Catalogue:
        return self.services.catalogue

    @property
    def has_profile(self) -> bool:
        return self.agent is not None and self.agent.collectivite_id is not None

    @property
    def is_admin(self) -> bool:
        return self.services.settings.is_admin(self.key.transport, self.key.user)

    @property
    def actor(self) -> str:
        return f"{self.key.transport}:{self.key.user}"
