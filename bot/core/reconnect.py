"""Work that must not be lost while the database server restarts (PostgreSQL)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import sqlalchemy as sa

log = logging.getLogger(__name__)

T = TypeVar("T")

RECONNECT_DELAYS = (0.2, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 30.0, 30.0)
"""Seconds between tries of work lost with the connection (two minutes in all: a database
server restarting after a crash replays its journal, longer on a busy machine; a message
sent and not yet marked sent must not be given up and sent again); the pool checks each
connection before use."""


async def while_unreachable(attempt: Callable[[], Awaitable[T]]) -> T:
    """Run ``attempt`` again while the database is unreachable. Each try must leave nothing
    behind when it fails (one transaction, or one idempotent statement): a turn played once,
    a message sent marked sent, never lost nor done twice."""
    for delay in RECONNECT_DELAYS:
        try:
            return await attempt()
        except sa.exc.OperationalError as exc:
            log.warning("base de données injoignable, nouvel essai dans %s s : %s", delay, exc)
            await asyncio.sleep(delay)
    return await attempt()
