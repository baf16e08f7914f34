"""Messages users act on later (polls, keyboards): platform id → the core's reference."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select

from storage.models import PlatformMessage, utcnow
from storage.ops.base import TxBase


class PlatformMessageOps(TxBase):
    """Dated by the real clock, even in a trial: they record what the platform did."""

    def remember_platform_message(
        self,
        transport: str,
        chat_id: str,
        platform_id: str,
        *,
        kind: str,
        core_ref: str,
        data: dict[str, Any] | None = None,
    ) -> None:
        self._insert_ignore(
            PlatformMessage,
            {
                "transport": transport,
                "chat_id": chat_id,
                "platform_id": platform_id,
                "kind": kind,
                "core_ref": core_ref,
                "data": data or {},
                "created_at": utcnow(),
            },
        )

    def platform_message(self, transport: str, platform_id: str) -> PlatformMessage | None:
        statement = select(PlatformMessage).where(
            PlatformMessage.transport == transport,
            PlatformMessage.platform_id == platform_id,
        )
        return self.session.exec(statement).first()

    def platform_messages_for(
        self, transport: str, chat_id: str, core_ref: str
    ) -> list[PlatformMessage]:
        statement = (
            select(PlatformMessage)
            .where(
                PlatformMessage.transport == transport,
                PlatformMessage.chat_id == chat_id,
                PlatformMessage.core_ref == core_ref,
            )
            .order_by(col(PlatformMessage.id))
        )
        return list(self.session.exec(statement))

    def update_platform_message(
        self, message_id: int, *, data: dict[str, Any] | None = None, closed: bool = False
    ) -> None:
        values: dict[str, Any] = {}
        if data is not None:
            values["data"] = data
        if closed:
            values["closed_at"] = utcnow()
        if values:
            self.session.execute(
                sa.update(PlatformMessage)
                .where(col(PlatformMessage.id) == message_id)
                .values(**values)
            )

    def open_polls(self, poll_prefix: str) -> list[tuple[str, str, str]]:
        """(transport, chat, core poll id) of every poll still open whose id starts with
        ``poll_prefix``, each once (a poll may be several platform messages)."""
        statement = (
            sa.select(
                col(PlatformMessage.transport),
                col(PlatformMessage.chat_id),
                col(PlatformMessage.core_ref),
            )
            .where(
                col(PlatformMessage.kind).in_(("poll", "pollkb")),
                col(PlatformMessage.closed_at).is_(None),
            )
            .distinct()
        )
        found = []
        for transport, chat_id, core_ref in self.session.execute(statement):
            poll_id = str(core_ref).removeprefix("poll:")
            if poll_id.startswith(poll_prefix):
                found.append((str(transport), str(chat_id), poll_id))
        return sorted(set(found))
