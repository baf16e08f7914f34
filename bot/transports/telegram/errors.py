"""Bot API errors turned into the project's exceptions, at the edge of the adapter.

PTB raises ``TelegramError`` subclasses; the engine understands :class:`DeliveryRefused`
(the user is gone for good: stop sending) and treats any other exception as a failed
attempt to retry later. Errors that mean "already done" are recognised here too, so that
replaying an update after a restart stays quiet.
"""

from __future__ import annotations

import warnings
from datetime import timedelta

from telegram.error import BadRequest, Forbidden, InvalidToken, RetryAfter, TelegramError
from telegram.warnings import PTBDeprecationWarning

from bot.core.transport import DeliveryRefused

# PTB warns about ``retry_after`` becoming a timedelta even while building the exception;
# ``retry_after_seconds`` reads both types, so the warning says nothing to act on here.
warnings.filterwarnings(
    "ignore", message=".*`retry_after`.*", category=PTBDeprecationWarning, module="telegram"
)

_GONE = ("chat not found", "user is deactivated", "peer_id_invalid")


class TelegramSendError(Exception):
    """A Bot API call failed for a reason that may pass; the engine retries it later."""


class TelegramConfigError(Exception):
    """The token or the server address is wrong: the transport cannot start."""


def translate(error: TelegramError, what: str) -> Exception:
    """The exception to raise for ``error`` met while doing ``what``."""
    message = error.message
    if isinstance(error, Forbidden):
        return DeliveryRefused(f"{what}: {message}")
    if isinstance(error, BadRequest) and any(m in message.lower() for m in _GONE):
        return DeliveryRefused(f"{what}: {message}")
    if isinstance(error, InvalidToken):
        return TelegramConfigError(f"jeton Telegram refusé ({message})")
    return TelegramSendError(f"{what}: {type(error).__name__}: {message}")


def is_not_modified(error: TelegramError) -> bool:
    """The edit asked for is already in place (a replayed update, a double press)."""
    return isinstance(error, BadRequest) and "not modified" in error.message.lower()


def is_gone_message(error: TelegramError) -> bool:
    """The message to edit or the query to answer no longer exists or has expired."""
    text = error.message.lower()
    return isinstance(error, BadRequest) and any(
        marker in text
        for marker in (
            "query is too old",
            "query id is invalid",
            "not found",
            "can't be edited",
            "already been closed",
        )
    )


def retry_after_seconds(error: RetryAfter) -> float:
    """``retry_after`` in seconds, whichever type this PTB version returns."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)
