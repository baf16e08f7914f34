"""What the adapter is doing right now, visible to the sends it causes.

The engine sends a turn's replies from inside the adapter's call to ``handle``, in the same
task, so context variables set around that call tell a reply (the user is waiting; no
per-chat pacing) from a push (paced), and which update caused a message.
"""

from __future__ import annotations

from contextvars import ContextVar

replying_to: ContextVar[int | None] = ContextVar("telegram_replying_to", default=None)
"""The chat whose update is being handled."""

handling_update: ContextVar[int | None] = ContextVar("telegram_handling_update", default=None)
"""The update being handled."""
