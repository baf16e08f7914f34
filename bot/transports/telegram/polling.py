"""Long polling that acknowledges updates only once they are handled.

PTB's ``Updater`` confirms a batch when it fetches the next one, whether or not the batch
was processed, so a crash loses what was in hand. Here the offset moves past a batch only
after the dispatcher has handled all of it; updates in hand at a crash come again, and the
engine drops those it had already handled.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from telegram import Bot
from telegram.error import Conflict, Forbidden, InvalidToken, NetworkError, RetryAfter

from bot.transports.telegram.dispatch import Dispatcher
from bot.transports.telegram.errors import TelegramConfigError, retry_after_seconds
from bot.transports.telegram.updates import ALLOWED_UPDATES

log = logging.getLogger(__name__)

LONG_POLL_SECONDS = 50
MAX_BACKOFF = 30.0


async def poll_updates(
    bot: Callable[[], Awaitable[Bot]],
    dispatcher: Dispatcher,
    *,
    long_poll: int = LONG_POLL_SECONDS,
    ready: Callable[[], None] | None = None,
) -> None:
    """Fetch and handle updates until cancelled."""
    offset: int | None = None
    backoff = 1.0
    client = await bot()
    webhook_cleared = False
    while True:
        try:
            if not webhook_cleared:  # getUpdates is refused while a webhook is set
                await client.delete_webhook(drop_pending_updates=False)
                webhook_cleared = True
                if ready is not None:
                    ready()
            updates = await client.get_updates(
                offset=offset, timeout=long_poll, allowed_updates=list(ALLOWED_UPDATES)
            )
        except RetryAfter as error:
            await asyncio.sleep(retry_after_seconds(error))
            continue
        except (InvalidToken, Forbidden) as error:
            raise TelegramConfigError(
                f"Telegram refuse le jeton du bot ({error.message})"
            ) from error
        except Conflict as error:
            log.warning("another instance polls this bot (%s); retrying", error.message)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)
            continue
        except NetworkError as error:
            log.warning("getUpdates failed (%s); retrying in %.0f s", error.message, backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)
            continue
        backoff = 1.0
        if not updates:
            continue
        await dispatcher.process_batch(updates)
        offset = updates[-1].update_id + 1
