"""Every Bot API call goes through here: pacing, ``RetryAfter`` honoured, errors translated."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram import Bot
from telegram.error import RetryAfter, TelegramError

from bot.core.values import pseudonym
from bot.transports.telegram.errors import (
    TelegramSendError,
    is_gone_message,
    is_not_modified,
    retry_after_seconds,
    translate,
)
from bot.transports.telegram.ratelimit import RateLimiter

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_FLOOD_RETRIES = 20
"""``RetryAfter`` answers tolerated for one call before it is reported as failed."""


class Sender:
    """Calls the Bot API for the transport.

    ``send`` is for calls that create a message (counted by Telegram's limits, so paced);
    ``call`` for the others (edits, callback answers, stopping a poll), which only honour
    ``RetryAfter``. A call refused with ``RetryAfter`` is the same request sent again: it was
    not executed, so retrying cannot duplicate it. Other failures are not retried here: a
    timed-out ``sendMessage`` may have been delivered, and the engine decides.
    """

    def __init__(self, bot: Callable[[], Awaitable[Bot]], limiter: RateLimiter) -> None:
        self._bot = bot
        self.limiter = limiter

    async def send(
        self, chat_id: int, call: Callable[[Bot], Awaitable[T]], *, paced: bool, what: str
    ) -> T:
        for _ in range(MAX_FLOOD_RETRIES + 1):
            bot = await self._bot()
            async with self.limiter.slot(chat_id, paced=paced):
                try:
                    return await call(bot)
                except RetryAfter as error:
                    wait = retry_after_seconds(error)
                    log.info(
                        "%s to %s: flood control, retrying in %s s",
                        what,
                        pseudonym(str(chat_id)),
                        wait,
                    )
                    self.limiter.pause(wait)
                except TelegramError as error:
                    raise translate(error, what) from error
        raise TelegramSendError(f"{what}: still flood-limited after {MAX_FLOOD_RETRIES} retries")

    async def call(
        self, call: Callable[[Bot], Awaitable[T]], *, what: str, tolerate_gone: bool = False
    ) -> T | None:
        """Call a method that sends no message; None when it was already done (or gone)."""
        for _ in range(MAX_FLOOD_RETRIES + 1):
            bot = await self._bot()
            try:
                return await call(bot)
            except RetryAfter as error:
                wait = retry_after_seconds(error)
                self.limiter.pause(wait)
                await self.limiter.sleep(wait)
            except TelegramError as error:
                if is_not_modified(error) or (tolerate_gone and is_gone_message(error)):
                    log.debug("%s: already done (%s)", what, error.message)
                    return None
                raise translate(error, what) from error
        raise TelegramSendError(f"{what}: still flood-limited after {MAX_FLOOD_RETRIES} retries")
