"""Small read-only values the store returns on the hot path, instead of ORM objects."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from storage.keys import ConversationKey
from storage.models import Agent, Collectivite, Contribution


@dataclass(frozen=True, slots=True)
class ConversationRow:
    """A conversation read under its lock: the state to step, and the row to write back."""

    id: int
    state: dict[str, Any]
    turns: int
    agent: AgentRecord | None  # the agent of this transport identity, if known
    has_pending: bool  # replies of an earlier turn still wait to be delivered


@dataclass(frozen=True, slots=True)
class AgentRecord:
    """An agent as a dialogue turn sees it (read on every turn, so without the ORM)."""

    id: int
    transport: str
    user_id: str
    collectivite_id: int | None
    profile: str | None
    fonction: str | None
    email: str | None


@dataclass(frozen=True, slots=True)
class PendingDelivery:
    """An outgoing message not yet delivered, oldest first."""

    id: int
    transport: str
    chat_id: str
    user_id: str
    payload: dict[str, Any]
    attempts: int

    @property
    def key(self) -> ConversationKey:
        return ConversationKey(self.transport, self.chat_id, self.user_id)


@dataclass(frozen=True, slots=True)
class ContributionSummary:
    """What the dialogue shows of someone else's contribution: title and collectivité."""

    id: int
    reference: str
    kind: str
    title: str
    collectivite_id: int
    collectivite_kind: str
    collectivite_code: str
    url: str | None
    usage: str | None = None


@dataclass(frozen=True, slots=True)
class ContributionView:
    """A contribution with its collectivité and author, for listings and exports."""

    contribution: Contribution
    collectivite: Collectivite
    author: Agent
