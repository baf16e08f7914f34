"""A fake Telegram Bot API server, served over real HTTP, for testing bots built on PTB.

Point python-telegram-bot at it with ``ApplicationBuilder().base_url(api.base_url)
.base_file_url(api.base_file_url)`` and any token. The server answers the methods a polling
bot uses with the objects and errors Telegram would send, records what the bot did, and lets
a test act as users (send text, press a button, vote) and inject failures (429, 403, any
error). Every wait is an ``asyncio.Condition`` wait with a bounded timeout.

State lives in this object (its chat side in ``BotApiMethods``) and changes only while
holding ``_changed``'s lock, notified after every change, so waits never miss an event.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import web
from fake_bot_methods import BotApiMethods
from fake_bot_protocol import (
    BLOCKABLE_METHODS,
    BOT_BLOCKED,
    DEFAULT_ALLOWED_UPDATES,
    SEND_METHODS,
    Params,
    TelegramApiError,
    command_entities,
    update_type,
)
from fake_bot_rate import Clock, RateLimits, SendRecord, retry_after
from fake_bot_records import ApiCall, CallbackAnswer, ChatMessage, FakeUser, JsonDict, MessageEdit

T = TypeVar("T")

DEFAULT_TIMEOUT = 10.0
"""Seconds a test waits for the bot before failing; a bound, not a pacing."""


@dataclass
class _Fault:
    method: str | None  # lower-case; None matches every method but getUpdates
    error: TelegramApiError
    remaining: int

    def matches(self, method: str) -> bool:
        if self.method is None:
            return method != "getupdates"
        return self.method == method


@dataclass
class _Hold:
    countdown: int  # message-creating calls (to ``chats``, if set) still to let through
    chats: frozenset[int] | None
    delivered: bool
    onward: bool


@dataclass(frozen=True)
class HeldCall:
    """A request the server received and does not answer (until ``release_held``)."""

    method: str
    chat_id: int | None
    delivered: bool
    """Executed (the message is in the chat) before the answer was held."""
    text: str | None
    """Its ``text`` (or poll ``question``) parameter, to recognise the message."""


class FakeBotApi(BotApiMethods):
    """The fake server. ``await start()``, point the bot at ``base_url``, ``await stop()``.

    Args:
        clock: Timestamps for the send log and rate-limit enforcement; ``time.monotonic`` by
            default (see ``fake_bot_rate`` for manual and scaled clocks).
        enforce_rate_limits: When given, a send beyond these limits is refused with 429 and
            ``retry_after``, like Telegram; the send log is kept either way.
    """

    def __init__(
        self,
        *,
        bot_id: int = 7_000_000_001,
        bot_username: str = "recueil_test_bot",
        clock: Clock = time.monotonic,
        enforce_rate_limits: RateLimits | None = None,
    ) -> None:
        super().__init__(
            {
                "id": bot_id,
                "is_bot": True,
                "first_name": "Recueil",
                "username": bot_username,
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        )
        self.clock = clock
        self.rate_limits = enforce_rate_limits
        # Recorded state, for assertions.
        self.calls: list[ApiCall] = []
        self.send_log: list[SendRecord] = []
        self.rate_limited: list[SendRecord] = []
        self.tokens: set[str] = set()
        # Internal state.
        self._blocked: set[int] = set()
        self._faults: list[_Fault] = []
        self._holds: list[_Hold] = []
        self._holding_all = False  # an ``onward`` hold was reached: every send is held
        self.held: list[HeldCall] = []
        self._unheld = asyncio.Event()
        self._allowed_updates: frozenset[str] = DEFAULT_ALLOWED_UPDATES
        self._poll_generation = 0
        self._held = False
        self._pending_polls = 0
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        self._port = listener.getsockname()[1]
        await web.SockSite(self._runner, listener).start()

    async def stop(self) -> None:
        """Answer pending long polls with no updates, then close the server."""
        async with self._changed:
            self._closing = True
            self._unheld.set()
            self._changed.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeBotApi:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeBotApi is not started")
        return self._port

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder().base_url``: PTB appends the token, then ``/method``."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """For ``ApplicationBuilder().base_file_url``: PTB appends the token and file path."""
        return f"http://127.0.0.1:{self.port}/file/bot"

    # ------------------------------------------------------------------ assertions

    def sent_messages(self, chat_id: int) -> list[ChatMessage]:
        """Every message the bot sent to ``chat_id``, in order, deleted ones included."""
        return [m for m in self._chat_order.get(chat_id, []) if m.from_bot]

    def message(self, chat_id: int, message_id: int) -> ChatMessage:
        return self._messages[(chat_id, message_id)]

    def calls_to(self, method: str) -> list[ApiCall]:
        return [call for call in self.calls if call.method.lower() == method.lower()]

    def commands_for(
        self, scope: JsonDict | None = None, language_code: str = ""
    ) -> list[JsonDict]:
        return self.commands.get((self._scope_key(scope), language_code), [])

    @property
    def pending_updates(self) -> list[JsonDict]:
        """Updates not yet confirmed by an ``offset``."""
        return list(self._updates)

    # ------------------------------------------------------------------ waits
    # Each wait takes its bound as ``timeout`` (hence ``noqa: ASYNC109``) so that a failing
    # test says what it was waiting for instead of a bare TimeoutError.

    async def wait_until(
        self,
        predicate: Callable[[], T],
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109
        what: str = "",
    ) -> T:
        """Wait until ``predicate()`` is truthy and return it; AssertionError on timeout."""
        async with self._changed:
            try:
                async with asyncio.timeout(timeout):
                    return await self._changed.wait_for(predicate)
            except TimeoutError:
                raise AssertionError(
                    f"timed out after {timeout}s waiting for {what or predicate}"
                ) from None

    async def wait_for_messages(
        self,
        chat_id: int,
        count: int,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109
    ) -> list[ChatMessage]:
        """Wait until the bot has sent ``count`` messages to ``chat_id``; return them all."""
        await self.wait_until(
            lambda: len(self.sent_messages(chat_id)) >= count,
            timeout,
            f"{count} message(s) to chat {chat_id}",
        )
        return self.sent_messages(chat_id)

    async def wait_for_edits(
        self,
        count: int,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109
    ) -> list[MessageEdit]:
        await self.wait_until(lambda: len(self.edits) >= count, timeout, f"{count} edit(s)")
        return list(self.edits)

    async def wait_for_callback_answers(
        self,
        count: int,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109
    ) -> list[CallbackAnswer]:
        await self.wait_until(
            lambda: len(self.callback_answers) >= count, timeout, f"{count} callback answer(s)"
        )
        return list(self.callback_answers)

    async def wait_for_confirmation(
        self,
        update_id: int,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109
    ) -> None:
        """Wait until a ``getUpdates`` offset has confirmed ``update_id``."""
        await self.wait_until(
            lambda: all(u["update_id"] > update_id for u in self._updates),
            timeout,
            f"confirmation of update {update_id}",
        )

    async def wait_for_long_poll(
        self,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109
    ) -> None:
        """Wait until a client is blocked in ``getUpdates``."""
        await self.wait_until(lambda: self._pending_polls > 0, timeout, "a pending getUpdates")

    # ------------------------------------------------------------------ simulation

    def block_user(self, chat_id: int) -> None:
        """From now on, sends to ``chat_id`` answer 403 "bot was blocked by the user"."""
        self._blocked.add(chat_id)

    def unblock_user(self, chat_id: int) -> None:
        self._blocked.discard(chat_id)

    def inject_retry_after(self, n: int, seconds: int, method: str | None = None) -> None:
        """The next ``n`` calls (to ``method``, or to any method but getUpdates) answer 429."""
        error = TelegramApiError(
            429, f"Too Many Requests: retry after {seconds}", {"retry_after": seconds}
        )
        self._faults.append(_Fault(method.lower() if method else None, error, n))

    def inject_error(self, method: str | None, code: int, description: str, n: int = 1) -> None:
        """The next ``n`` calls to ``method`` (None: any but getUpdates) fail with this error."""
        error = TelegramApiError(code, description)
        self._faults.append(_Fault(method.lower() if method else None, error, n))

    def hold_send(
        self,
        nth: int = 1,
        *,
        chat_id: int | Iterable[int] | None = None,
        delivered: bool = True,
        onward: bool = False,
    ) -> None:
        """Never answer the ``nth`` message-creating call from now (to ``chat_id``, or to one
        of these chats, if given).

        ``delivered``: the server executes it first (the message is in the chat), then holds
        the answer, which is what a client killed while waiting for Telegram's answer leaves
        behind; otherwise the request is held unexecuted (it never reached Telegram).
        ``onward``: every message-creating call after it, to any chat, is held unexecuted
        too: the requests in flight on the network when the client dies. Held calls are in
        ``held``; ``release_held`` (or ``stop``) ends every hold and answers them, an
        unexecuted one with 502 and without executing it.
        """
        if nth < 1:
            raise ValueError("nth counts from 1")
        chats = (
            None
            if chat_id is None
            else frozenset([chat_id] if isinstance(chat_id, int) else chat_id)
        )
        self._holds.append(_Hold(nth, chats, delivered, onward))

    async def release_held(self) -> None:
        """End every hold: the calls held so far are answered (and no longer listed in
        ``held``), later ones go through."""
        async with self._changed:
            self._holds.clear()
            self.held.clear()
            self._holding_all = False
            self._unheld.set()
            self._changed.notify_all()

    async def wait_for_held(
        self,
        count: int = 1,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109
    ) -> list[HeldCall]:
        await self.wait_until(lambda: len(self.held) >= count, timeout, f"{count} held call(s)")
        return list(self.held)

    def _take_hold(self, method: str, params: Params) -> _Hold | None:
        """The hold this call falls under, if any (synchronous: no other call interleaves)."""
        if method.lower() not in SEND_METHODS or "chat_id" not in params.values:
            return None
        if self._holding_all:
            return _Hold(0, None, delivered=False, onward=True)
        chat_id = params.integer("chat_id")
        for hold in self._holds:
            if hold.chats is None or chat_id in hold.chats:
                hold.countdown -= 1
                if hold.countdown == 0:
                    self._holds.remove(hold)
                    self._holding_all = hold.onward
                    return hold
        return None

    async def _park(self, hold: _Hold, method: str, params: Params) -> None:
        async with self._changed:
            text = params.values.get("text", params.values.get("question"))
            self.held.append(
                HeldCall(
                    method,
                    params.integer("chat_id"),
                    hold.delivered,
                    None if text is None else str(text),
                )
            )
            self._unheld.clear()
            self._changed.notify_all()
        await self._unheld.wait()

    def hold_updates(self) -> None:
        """Deliver no update until ``release_updates``: what a slow network does.

        Actions queued meanwhile reach the bot in one batch, e.g. two presses of a button
        before the bot could remove it.
        """
        self._held = True

    async def release_updates(self) -> None:
        async with self._changed:
            self._held = False
            self._changed.notify_all()

    async def user_sends_attachment(
        self, user: FakeUser | int, kind: str, *, caption: str | None = None
    ) -> int:
        """Queue a message carrying a ``photo``, ``document``, ``voice`` or ``sticker``."""
        files: dict[str, Any] = {
            "photo": [{"file_id": "P1", "file_unique_id": "UP1", "width": 1, "height": 1}],
            "document": {"file_id": "D1", "file_unique_id": "UD1", "file_name": "note.pdf"},
            "voice": {"file_id": "V1", "file_unique_id": "UV1", "duration": 3},
            "sticker": {
                "file_id": "S1",
                "file_unique_id": "US1",
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
            },
        }
        async with self._changed:
            sender = self._user(user)
            message = self._new_message(sender.id, sender.id, from_bot=False, kind=kind)
            data = self._message_to_api(message)
            data["from"] = sender.to_api()
            data[kind] = files[kind]
            if caption is not None:
                data["caption"] = caption
            return self._push_update({"message": data})

    async def user_sends_text(
        self, user: FakeUser | int, text: str, *, chat_id: int | None = None
    ) -> int:
        """Queue a ``message`` update; returns its update_id."""
        async with self._changed:
            sender = self._user(user)
            message = self._new_message(
                chat_id or sender.id, sender.id, from_bot=False, kind="text", text=text
            )
            data = self._message_to_api(message)
            data["from"] = sender.to_api()
            if entities := command_entities(text):
                data["entities"] = entities
            return self._push_update({"message": data})

    async def user_starts(self, user: FakeUser | int, deep_link_param: str | None = None) -> int:
        """What a ``t.me/<bot>?start=PARAM`` link makes the client send: ``/start PARAM``."""
        text = f"/start {deep_link_param}" if deep_link_param else "/start"
        return await self.user_sends_text(user, text)

    async def user_presses_button(
        self,
        message_id: int,
        callback_data: str,
        user: FakeUser | int,
        *,
        chat_id: int | None = None,
    ) -> str:
        """Queue a ``callback_query`` update for a button the bot sent; returns the query id.

        Raises:
            ValueError: the message does not exist or carries no such button, which a real
                client could not press either.
        """
        async with self._changed:
            presser = self._user(user)
            chat = chat_id or presser.id
            message = self._messages.get((chat, message_id))
            if message is None or message.deleted or not message.from_bot:
                raise ValueError(f"no bot message {message_id} in chat {chat}")
            if callback_data not in message.callback_data:
                raise ValueError(
                    f"message {message_id} has no button {callback_data!r}: {message.callback_data}"
                )
            query_id = str(next(self._ids) * 1_000_003)
            self._open_queries.add(query_id)
            self._push_update(
                {
                    "callback_query": {
                        "id": query_id,
                        "from": presser.to_api(),
                        "message": self._message_to_api(message),
                        "chat_instance": f"instance-{chat}",
                        "data": callback_data,
                    }
                }
            )
            return query_id

    async def user_answers_poll(
        self, poll_id: str, user: FakeUser | int, option_ids: list[int]
    ) -> None:
        """Vote, change a vote or (empty list) retract it.

        Queues a ``poll_answer`` update (non-anonymous polls) and a ``poll`` update with the
        new counts, as Telegram does for polls the bot sent.
        """
        async with self._changed:
            voter = self._user(user)
            poll = self.polls[poll_id]
            if poll.is_closed:
                raise ValueError(f"poll {poll_id} is closed")
            if len(option_ids) > 1 and not poll.allows_multiple_answers:
                raise ValueError(f"poll {poll_id} allows one answer")
            if len(set(option_ids)) != len(option_ids) or any(
                not 0 <= option < len(poll.options) for option in option_ids
            ):
                raise ValueError(f"invalid options {option_ids} for poll {poll_id}")
            if option_ids:
                poll.votes[voter.id] = sorted(option_ids)
            else:
                poll.votes.pop(voter.id, None)
            if not poll.is_anonymous:
                self._push_update(
                    {
                        "poll_answer": {
                            "poll_id": poll.id,
                            "user": voter.to_api(),
                            "option_ids": sorted(option_ids),
                            "option_persistent_ids": [
                                poll.persistent_ids[i] for i in sorted(option_ids)
                            ],
                        }
                    }
                )
            self._push_update({"poll": poll.to_api()})

    # ------------------------------------------------------------------ HTTP

    async def _handle(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        method = request.match_info["method"]
        params = await self._read_params(request)
        hold = self._take_hold(method, params)
        try:
            if hold is not None and not hold.delivered:
                await self._park(hold, method, params)
                raise TelegramApiError(502, "Bad Gateway")
            result = await self._dispatch(token, method, params)
            if hold is not None:
                await self._park(hold, method, params)
        except TelegramApiError as error:
            status, body = error.code, error.to_api()
        else:
            status, body = 200, {"ok": True, "result": result}
        async with self._changed:
            self.calls.append(
                ApiCall(
                    method=method,
                    token=token,
                    content_type=request.content_type,
                    params=dict(params.values),
                    uploaded_files=tuple(params.files),
                    status=status,
                    at=self.clock(),
                )
            )
            self._changed.notify_all()
        return web.json_response(body, status=status)

    async def _download(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        for stored in self.files.values():
            if stored.file_path == path:
                return web.Response(body=stored.content, content_type="application/octet-stream")
        return web.json_response(
            {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
        )

    @staticmethod
    async def _read_params(request: web.Request) -> Params:
        values: dict[str, Any] = dict(request.query)
        files: dict[str, web.FileField] = {}
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                values.update(body)
        elif request.can_read_body:
            form = await request.post()
            for name, value in form.items():
                if isinstance(value, web.FileField):
                    files[name] = value
                elif isinstance(value, bytes):
                    values[name] = value.decode()
                else:
                    values[name] = value
        return Params(values, files)

    async def _dispatch(self, token: str, method: str, params: Params) -> Any:
        self.tokens.add(token)
        if method.lower() == "getupdates":
            self._raise_fault(method.lower())
            return await self._get_updates(params)
        async with self._changed:
            try:
                return self._call(method, params)
            finally:
                self._changed.notify_all()

    def _call(self, method: str, params: Params) -> Any:
        key = method.lower()  # Telegram's method names are case-insensitive
        handler = self._methods.get(key)
        if handler is None:
            raise TelegramApiError(404, "Not Found")
        self._raise_fault(key)
        chat_id = params.integer("chat_id") if "chat_id" in params.values else None
        if chat_id in self._blocked and key in BLOCKABLE_METHODS:
            raise TelegramApiError(403, BOT_BLOCKED)
        now = self.clock()
        if key in SEND_METHODS and chat_id is not None:
            if self.rate_limits is not None:
                wait = retry_after(self.send_log, chat_id, now, self.rate_limits)
                if wait:
                    self.rate_limited.append(SendRecord(now, chat_id, method))
                    raise TelegramApiError(
                        429, f"Too Many Requests: retry after {wait}", {"retry_after": wait}
                    )
            result = handler(params)
            self.send_log.append(SendRecord(now, chat_id, method))
            return result
        return handler(params)

    def _raise_fault(self, method: str) -> None:
        for fault in self._faults:
            if fault.remaining > 0 and fault.matches(method):
                fault.remaining -= 1
                raise fault.error
        self._faults = [fault for fault in self._faults if fault.remaining > 0]

    # ------------------------------------------------------------------ updates

    def _confirm(self, offset: int) -> None:
        if offset < 0:
            self._updates = self._updates[offset:]
        else:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]

    def _deliverable(self) -> list[JsonDict]:
        self._updates = [u for u in self._updates if update_type(u) in self._allowed_updates]
        return self._updates

    async def _get_updates(self, params: Params) -> list[JsonDict]:
        offset = params.integer("offset")
        limit = min(max(params.integer("limit") or 100, 1), 100)
        timeout = max(params.integer("timeout") or 0, 0)
        allowed = params.decoded("allowed_updates")
        async with self._changed:
            if self.webhook_url:
                raise TelegramApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first",
                )
            if allowed is not None:
                self._allowed_updates = frozenset(allowed) or DEFAULT_ALLOWED_UPDATES
            if offset:
                self._confirm(offset)
            self._poll_generation += 1
            generation = self._poll_generation
            self._pending_polls += 1
            self._changed.notify_all()
            try:
                async with asyncio.timeout(timeout):
                    await self._changed.wait_for(
                        lambda: (
                            (bool(self._deliverable()) and not self._held)
                            or self._closing
                            or generation != self._poll_generation
                        )
                    )
            except TimeoutError:
                pass
            finally:
                self._pending_polls -= 1
                self._changed.notify_all()
            if generation != self._poll_generation:
                raise TelegramApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            return [] if self._held else self._deliverable()[:limit]
