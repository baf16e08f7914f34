"""Platform events claimed once, and the conversation state read under its lock."""

from __future__ import annotations

from typing import Any

from storage import statements as sql
from storage.keys import ConversationKey
from storage.models import Conversation, utcnow
from storage.ops.base import TxBase
from storage.records import AgentRecord, ConversationRow


class ConversationOps(TxBase):
    def claim_event(self, transport: str, event_id: str) -> bool:
        """Record a platform event; False if it was already handled."""
        # the platform's delivery, on the real clock like the other delivery bookkeeping
        values = {"transport": transport, "event_id": event_id, "received_at": utcnow()}
        return self.execute(sql.CLAIM_EVENT, values).first() is not None

    def lock_conversation(self, key: ConversationKey) -> ConversationRow:
        """Read the conversation under a row lock (PostgreSQL) or the write lock (SQLite)."""
        if self.on_postgresql:
            self.wait_for_conversation(key)
        ident = {"transport": key.transport, "chat_id": key.chat, "user_id": key.user}
        row = self.execute(sql.SELECT_CONVERSATION, ident).first()
        if row is None:
            self._insert_ignore(
                Conversation, {**ident, "state": {}, "turns": 0, "updated_at": self.now}
            )
            row = self.execute(sql.SELECT_CONVERSATION, ident).one()
        return _conversation_row(*row)

    def wait_for_conversation(self, key: ConversationKey) -> None:
        """PostgreSQL: wait until no other transaction works on this conversation, and hold it
        until this one ends (a transaction advisory lock on a hash of the key and the schema).

        Taken before the conversation is read, so that the read sees everything the previous
        holder committed, the agent and the unsent replies included: a row lock alone would
        hand over the latest conversation row but an older view of the rest. Other
        ``recueil run`` processes on the same base wait here; SQLite has one process.
        """
        values = {"key": f"conversation\x1f{key.transport}\x1f{key.chat}\x1f{key.user}"}
        self.execute(sql.LOCK_CONVERSATION, values)

    def save_conversation(self, conversation: ConversationRow, state: dict[str, Any]) -> None:
        values = {
            "conversation_id": conversation.id,
            "state": state,
            "turns": conversation.turns + 1,
            "updated_at": self.now,
        }
        self.execute(sql.UPDATE_CONVERSATION, values)


def _conversation_row(
    conversation_id: int,
    state: dict[str, Any] | None,
    turns: int,
    has_pending: bool,
    agent_id: int | None,
    *agent: Any,
) -> ConversationRow:
    """A row of ``SELECT_CONVERSATION``, in its column order."""
    found = AgentRecord(agent_id, *agent) if agent_id is not None else None
    return ConversationRow(conversation_id, state or {}, turns, found, bool(has_pending))
