"""What the adapter must remember about messages it sent: keyboards and polls.

A pressed button or a poll vote can arrive long after the message was sent, across a
restart; the mapping lives in the database (``platform_message``) when a store is given.
Without one (quick trials) it lives in memory, and presses on keyboards from before a
restart are answered as stale.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, TypeVar

from bot.core.reconnect import while_unreachable
from storage.models import PlatformMessage
from storage.store import Store

log = logging.getLogger(__name__)
T = TypeVar("T")

TRANSPORT = "telegram"


@dataclass(frozen=True, slots=True)
class Record:
    """One remembered message. ``platform_id`` is unique for the transport."""

    platform_id: str
    chat_id: str
    kind: str
    core_ref: str
    data: dict[str, Any] = field(default_factory=dict)
    closed: bool = False
    row_id: int | None = None


class Registry(Protocol):
    async def remember(self, record: Record) -> None: ...

    async def get(self, platform_id: str) -> Record | None: ...

    async def for_ref(self, chat_id: str, core_ref: str) -> list[Record]: ...

    async def update(
        self, record: Record, *, data: dict[str, Any] | None = None, closed: bool = False
    ) -> None: ...


def _record(row: PlatformMessage) -> Record:
    return Record(
        platform_id=row.platform_id,
        chat_id=row.chat_id,
        kind=row.kind,
        core_ref=row.core_ref,
        data=dict(row.data or {}),
        closed=row.closed_at is not None,
        row_id=row.id,
    )


async def _after_send(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """A write that follows a message already sent: were it to fail while the database is
    unreachable, the send would be taken for failed and the message sent again."""
    return await while_unreachable(lambda: asyncio.to_thread(function, *args, **kwargs))


class StoreRegistry:
    """Backed by the store's ``platform_message`` verbs, run off the event loop."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def remember(self, record: Record) -> None:
        await _after_send(
            self.store.remember_platform_message,
            TRANSPORT,
            record.chat_id,
            record.platform_id,
            kind=record.kind,
            core_ref=record.core_ref,
            data=record.data,
        )

    async def get(self, platform_id: str) -> Record | None:
        # read while recording a keyboard just sent (the chat's cursor): tried again too
        row = await _after_send(self.store.platform_message, TRANSPORT, platform_id)
        return _record(row) if row is not None else None

    async def for_ref(self, chat_id: str, core_ref: str) -> list[Record]:
        rows = await asyncio.to_thread(
            self.store.platform_messages_for, TRANSPORT, chat_id, core_ref
        )
        return [_record(row) for row in rows]

    async def update(
        self, record: Record, *, data: dict[str, Any] | None = None, closed: bool = False
    ) -> None:
        row_id = record.row_id
        if row_id is None:
            found = await self.get(record.platform_id)
            if found is None or found.row_id is None:
                return
            row_id = found.row_id
        await _after_send(self.store.update_platform_message, row_id, data=data, closed=closed)


class MemoryRegistry:
    """The same, in a dict: lost at restart."""

    def __init__(self) -> None:
        self._records: dict[str, Record] = {}

    async def remember(self, record: Record) -> None:
        self._records.setdefault(record.platform_id, record)

    async def get(self, platform_id: str) -> Record | None:
        return self._records.get(platform_id)

    async def for_ref(self, chat_id: str, core_ref: str) -> list[Record]:
        return [
            r for r in self._records.values() if r.chat_id == chat_id and r.core_ref == core_ref
        ]

    async def update(
        self, record: Record, *, data: dict[str, Any] | None = None, closed: bool = False
    ) -> None:
        current = self._records.get(record.platform_id)
        if current is None:
            return
        self._records[record.platform_id] = replace(
            current,
            data=dict(data) if data is not None else current.data,
            closed=current.closed or closed,
        )
