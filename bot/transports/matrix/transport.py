"""The Matrix (Tchap) transport: encrypted direct conversations between agents and the bot.

``run`` restores (or, the first time, creates) the bot's device, then syncs until
cancelled. Each sync's events become jobs, run in order per conversation and side by side
across conversations (:mod:`.dispatch`); its token is saved once those jobs are done, so a
restart answers what arrived while the bot was down, exactly once, and nothing older.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar

from nio import (
    Api,
    AsyncClient,
    Event,
    JoinError,
    JoinResponse,
    KeysClaimError,
    KeysQueryError,
    KeysUploadError,
    MegolmEvent,
    RoomLeaveError,
    RoomLeaveResponse,
    RoomMemberEvent,
    SyncError,
    SyncResponse,
    ToDeviceError,
    UnknownEvent,
)
from nio.responses import RoomInfo as NioRoomInfo

from bot.core.transport import Capability, IncomingHandler, Transport, render_poll
from bot.core.values import (
    ConversationKey,
    IncomingPollAnswer,
    IncomingStart,
    OutFile,
    Outgoing,
    OutPoll,
)
from bot.transports.matrix import files, polls
from bot.transports.matrix.backfill import missed_events
from bot.transports.matrix.decryption import Undecryptable
from bot.transports.matrix.dispatch import Batch, Dispatcher
from bot.transports.matrix.errors import MatrixSendError, MatrixStartupError
from bot.transports.matrix.events import conversation, to_incoming
from bot.transports.matrix.identity import matrix_dir, open_client
from bot.transports.matrix.pacing import Backoff, Pacer
from bot.transports.matrix.rendering import inert, text_content
from bot.transports.matrix.rooms import Invitation, read_invitation, server_allowed, server_of
from bot.transports.matrix.sender import TRANSIENT_ERRORS, Sender, transaction_ids
from bot.transports.matrix.state import BotState, RoomInfo, StateFile
from bot.transports.matrix.tchap import email_candidates
from config.catalogue import Catalogue
from config.settings import Settings
from storage.store import Store

log = logging.getLogger(__name__)

TOKEN_REFUSED = frozenset({"M_UNKNOWN_TOKEN", "M_MISSING_TOKEN", "M_USER_DEACTIVATED"})


@dataclass(frozen=True, slots=True)
class MatrixOptions:
    """Timings that are not settings: production defaults; tests shorten some."""

    sync_timeout_ms: int = 30_000
    timeline_limit: int = 100
    undecryptable_grace: float = 60.0
    backoff_cap: float = 60.0
    ready_timeout: float = 120.0
    backfill_pages: int = 20
    """Pages of 100 events read back when a sync skipped some (see :mod:`.backfill`)."""


@dataclass
class SyncStats:
    syncs: int = 0
    failures: int = 0


class MatrixTransport(Transport):
    """Matrix adapter; conversations are ``ConversationKey("matrix", room_id, sender)``.

    Args:
        settings: the ``matrix_*`` settings and ``data_dir`` (credentials, nio's store
            and the sync state go under ``data_dir/matrix``).
        catalogue: the French texts.
        store: where poll events are mapped to the core's polls; without it, polls are
            sent as numbered text.
        options: timings (see :class:`MatrixOptions`).
    """

    name: ClassVar[str] = "matrix"
    capabilities = frozenset({Capability.POLLS, Capability.FORMATTING, Capability.FILES})

    def __init__(
        self,
        settings: Settings,
        *,
        catalogue: Catalogue | None = None,
        store: Store | None = None,
        options: MatrixOptions | None = None,
    ) -> None:
        super().__init__(catalogue)
        self.settings = settings
        self.options = options or MatrixOptions()
        self.polls = polls.PollBook(store) if store is not None else None
        self.sync_stats = SyncStats()
        self._state_file = StateFile(matrix_dir(settings.data_dir) / "state.json")
        self._state = BotState()
        self._ready = asyncio.Event()
        self._client: AsyncClient | None = None
        self._sender: Sender | None = None
        self._undecryptable: Undecryptable | None = None
        self._handle: IncomingHandler | None = None
        self._allowed: tuple[str, ...] = ()
        self._inviting: set[str] = set()  # invitations being answered
        self._greeting: set[str] = set()  # greetings being sent

    # -- what the engine calls -------------------------------------------------------

    def emails_of(self, user_id: str) -> tuple[str, ...]:
        return email_candidates(user_id)

    async def send(
        self, key: ConversationKey, message: Outgoing, *, idempotency: str | None = None
    ) -> None:
        """As every transport, the events keyed by the delivery (``transaction_ids``)."""
        with transaction_ids(idempotency):
            await super().send(key, message, idempotency=idempotency)

    async def send_text(self, key: ConversationKey, text: str) -> None:
        await self._send(key.chat, "m.room.message", text_content(text))

    async def send_poll(self, key: ConversationKey, message: OutPoll) -> None:
        """A text message that notifies, then the MSC3381 poll (text alone if it cannot be)."""
        fallback = render_poll(message, self.catalogue)
        if self.polls is None or not polls.fits_in_a_poll(message):
            await self.send_text(key, fallback)
            return
        await self.send_text(key, self.catalogue.t("matrix.poll.notice", question=message.question))
        content = polls.start_content(message, inert(fallback))
        event_id = await self._send(key.chat, polls.POLL_START, content)
        await asyncio.to_thread(self.polls.remember, key.chat, event_id, message)

    async def send_file(self, key: ConversationKey, message: OutFile) -> None:
        """The caption as text, then the file: encrypted in an encrypted room (:mod:`.files`)."""
        if message.caption:
            await self.send_text(key, message.caption)
        await self.wait_ready(self.options.ready_timeout)
        assert self._client is not None and self._sender is not None
        uploaded = await files.upload(self._client, self._sender, key.chat, message)
        await self._send(key.chat, "m.room.message", files.file_content(message, uploaded))

    async def close_poll(self, key: ConversationKey, poll_id: str) -> int:
        """End the poll ``poll_id`` in ``key``'s room: the end event carries the results
        (each voter's latest response). Returns how many poll events were ended; closing
        an already closed poll sends nothing."""
        if self.polls is None:
            return 0
        book = self.polls
        closed = 0
        for row_id, start_event_id, data in await asyncio.to_thread(
            book.open_polls, key.chat, poll_id
        ):
            results = polls.tally(data)
            lines = [
                self.catalogue.t("matrix.poll.result", label=data["labels"][answer], count=count)
                for answer, count in results.items()
            ]
            text = "\n".join([self.catalogue.t("matrix.poll.closed"), *lines])
            await self._send(
                key.chat, polls.POLL_END, polls.end_content(start_event_id, results, inert(text))
            )
            await asyncio.to_thread(book.close, row_id)
            closed += 1
        return closed

    async def _send(self, room_id: str, event_type: str, content: dict[str, Any]) -> str:
        await self.wait_ready(self.options.ready_timeout)
        assert self._sender is not None
        return await self._sender.send(room_id, event_type, content)

    async def wait_ready(self, within: float | None = None) -> None:
        """Wait until the first sync is processed (rooms and their encryption are known)."""
        try:
            await asyncio.wait_for(self._ready.wait(), within)
        except TimeoutError:
            raise MatrixSendError("the Matrix connection is not ready") from None

    @property
    def user_id(self) -> str | None:
        return self._client.user_id if self._client else None

    @property
    def device_id(self) -> str | None:
        return self._client.device_id if self._client else None

    @property
    def sender(self) -> Sender:
        assert self._sender is not None, "not running"
        return self._sender

    @property
    def undecryptable(self) -> Undecryptable:
        assert self._undecryptable is not None, "not running"
        return self._undecryptable

    # -- running ---------------------------------------------------------------------

    async def run(self, handle: IncomingHandler) -> None:
        """Connect, then sync and dispatch until cancelled."""
        self._handle = handle
        client = await open_client(self.settings, self.catalogue)
        self._client = client
        self._sender = Sender(
            client, Pacer(self.settings.matrix_seconds_between_requests), self.options.backoff_cap
        )
        self._undecryptable = Undecryptable(client, self.options.undecryptable_grace)
        self._state = self._state_file.load()
        self._allowed = self.settings.matrix_allowed_servers or (server_of(client.user_id),)
        dispatcher = Dispatcher(self._save_token)
        log.info("Matrix: %s, device %s", client.user_id, client.device_id)
        try:
            await self._sync_forever(client, dispatcher)
        finally:
            self._ready.clear()
            await dispatcher.cancel()
            await client.close()

    def _save_token(self, token: str) -> None:
        self._state.since = token
        self._state_file.save(self._state)

    async def _sync_forever(self, client: AsyncClient, dispatcher: Dispatcher) -> None:
        first_start = self._state.since is None
        since = self._state.since
        full_state = True  # after a restart nio knows no room state: fetch it all once
        backoff = Backoff(base=1.0, cap=self.options.backoff_cap)
        sync_filter = {
            "room": {"timeline": {"limit": self.options.timeline_limit}},
            "presence": {"types": []},
        }
        while True:
            try:
                response: SyncResponse | SyncError | Exception = await client.sync(
                    timeout=0 if full_state else self.options.sync_timeout_ms,
                    since=since,
                    full_state=full_state,
                    sync_filter=sync_filter,
                )
            except TRANSIENT_ERRORS as exc:
                response = exc
            if not isinstance(response, SyncResponse):
                if isinstance(response, SyncError) and response.status_code in TOKEN_REFUSED:
                    raise MatrixStartupError(
                        self.catalogue.t("matrix.startup.token_refused", error=response.message)
                    )
                self.sync_stats.failures += 1
                delay = backoff.next_delay()
                log.warning("sync failed (%r): next attempt in %.1fs", response, delay)
                await asyncio.sleep(delay)
                continue
            backoff.reset()
            self.sync_stats.syncs += 1
            await self._encryption_chores(client)
            batch = dispatcher.open_batch(response.next_batch)
            self._process(client, response, batch, dispatcher, history=not first_start, since=since)
            dispatcher.seal(batch)
            self.undecryptable.retry()
            since, full_state, first_start = response.next_batch, False, False
            self._ready.set()

    async def _encryption_chores(self, client: AsyncClient) -> None:
        """What nio's ``sync_forever`` does between syncs; failures wait for the next sync."""
        try:
            if client.should_upload_keys:
                _warn_if(await client.keys_upload(), KeysUploadError)
            if client.should_query_keys:
                _warn_if(await client.keys_query(), KeysQueryError)
            if client.should_claim_keys:
                users = client.get_users_for_key_claiming()
                _warn_if(await client.keys_claim(users), KeysClaimError)
            for sent in await client.send_to_device_messages():
                _warn_if(sent, ToDeviceError)
        except TRANSIENT_ERRORS as exc:
            log.warning("encryption chores interrupted: %r", exc)

    # -- one sync's events -----------------------------------------------------------

    def _process(
        self,
        client: AsyncClient,
        response: SyncResponse,
        batch: Batch,
        dispatcher: Dispatcher,
        *,
        history: bool,
        since: str | None,
    ) -> None:
        for room_id, invite in response.rooms.invite.items():
            invitation = read_invitation(room_id, invite, client.user_id)
            if invitation is not None and room_id not in self._inviting:
                self._inviting.add(room_id)
                dispatcher.submit(batch, room_id, partial(self._answer_invite, invitation))
        for room_id, joined in response.rooms.join.items():
            info = self._state.rooms.get(room_id)
            if info is None or room_id not in client.rooms:
                continue  # a room joined before this bot kept state: neither greeted nor read
            if not info.greeted and room_id not in self._greeting:
                self._greeting.add(room_id)
                lane = (room_id, info.peer)
                dispatcher.submit(batch, lane, partial(self._greet, room_id, info))
            if history and info.direct:
                self._dispatch_timeline(client, room_id, joined, batch, dispatcher, since)
        for room_id in response.rooms.leave:
            if self._state.rooms.pop(room_id, None) is not None:
                self._state_file.save(self._state)

    def _dispatch_timeline(
        self,
        client: AsyncClient,
        room_id: str,
        joined: NioRoomInfo,
        batch: Batch,
        dispatcher: Dispatcher,
        since: str | None,
    ) -> None:
        info = self._state.rooms[room_id]
        timeline = joined.timeline
        if timeline.limited and info.greeted and since and timeline.prev_batch:
            # Before this sync's events, in the same lane: the ones it left out.
            job = partial(self._backfill, client, room_id, timeline.prev_batch, since)
            dispatcher.submit(batch, (room_id, info.peer), job)
        for event in timeline.events:
            if event.sender == client.user_id:
                continue
            lane = (room_id, event.sender)
            dispatcher.submit(batch, lane, partial(self._on_event, room_id, event))

    async def _backfill(
        self, client: AsyncClient, room_id: str, prev_batch: str, since: str
    ) -> None:
        assert self._sender is not None
        missed = await missed_events(
            client,
            self._sender,
            room_id,
            prev_batch,
            since,
            pages=self.options.backfill_pages,
            backoff_cap=self.options.backoff_cap,
        )
        for event in missed:
            if event.sender != client.user_id:
                await self._on_event(room_id, event)

    async def _on_event(self, room_id: str, event: Event) -> None:
        with self.sender.answering(room_id):  # the agent waits: before any push
            await self._handle_event(room_id, event)

    async def _handle_event(self, room_id: str, event: Event) -> None:
        assert self._handle is not None
        if isinstance(event, MegolmEvent):
            decrypted = await self.undecryptable.wait(event)
            if decrypted is None:
                key = conversation(room_id, event.sender)
                await self.send_text(key, self.catalogue.t("matrix.undecryptable"))
                return
            event = decrypted
        if isinstance(event, UnknownEvent) and event.type in polls.RESPONSE_TYPES:
            await self._on_poll_response(room_id, event)
            return
        if isinstance(event, RoomMemberEvent):
            await self._on_membership(room_id, event)
            return
        incoming = to_incoming(room_id, event)
        if incoming is not None:
            await self._handle(incoming)

    async def _on_poll_response(self, room_id: str, event: UnknownEvent) -> None:
        response = polls.parse_response(event.type, event.source.get("content", {}))
        if response is None or self.polls is None or self._handle is None:
            return
        accepted = await asyncio.to_thread(
            self.polls.record, response, event.sender, event.event_id, event.server_timestamp
        )
        if accepted is not None:
            await self._handle(
                IncomingPollAnswer(
                    key=conversation(room_id, event.sender),
                    event_id=event.event_id,
                    poll_id=accepted.poll_id,
                    option_ids=accepted.option_ids,
                    raw=event,
                )
            )

    async def _on_membership(self, room_id: str, event: RoomMemberEvent) -> None:
        """The agent left the direct room: the bot leaves too (nobody would read it)."""
        info = self._state.rooms.get(room_id)
        if info is None or event.state_key != info.peer:
            return
        if event.membership in ("leave", "ban"):
            await self._leave(room_id, reason=None)

    # -- invitations and greetings ---------------------------------------------------

    async def _answer_invite(self, invitation: Invitation) -> None:
        with self.sender.answering(invitation.room_id):
            await self._accept_or_decline(invitation)

    async def _accept_or_decline(self, invitation: Invitation) -> None:
        room_id = invitation.room_id
        try:
            if not server_allowed(invitation.inviter, self._allowed):
                log.info("invitation to %s from %s refused", room_id, server_of(invitation.inviter))
                reason = self.catalogue.t(
                    "matrix.invite_refused", server=server_of(invitation.inviter)
                )
                await self._leave(room_id, reason)
                return
            # Known before the join: the sync that shows the room joined may come back
            # before the join's own answer does.
            self._state.rooms[room_id] = RoomInfo(invitation.direct, invitation.inviter)
            joined = await self.sender.call(lambda: self._join(room_id), room_id)
            if isinstance(joined, JoinResponse):
                self._state_file.save(self._state)
            else:
                self._state.rooms.pop(room_id, None)
                log.warning("could not join %s: %r", room_id, joined)
        finally:
            self._inviting.discard(room_id)

    async def _join(self, room_id: str) -> JoinResponse | JoinError:
        assert self._client is not None
        return await self._client.join(room_id)

    async def _leave(self, room_id: str, reason: str | None) -> None:
        """Leave a room or decline an invitation, with a reason the inviter can read."""
        client = self._client
        assert client is not None
        method, path = Api.room_leave(client.access_token, room_id)
        body = Api.to_json({"reason": reason} if reason else {})

        async def leave() -> RoomLeaveResponse | RoomLeaveError:
            # nio's room_leave takes no reason: same request, with a body.
            return await client._send(RoomLeaveResponse, method, path, body)

        left = await self.sender.call(leave, room_id)
        if not isinstance(left, RoomLeaveResponse):
            log.warning("could not leave %s: %r", room_id, left)
        if self._state.rooms.pop(room_id, None) is not None:
            self._state_file.save(self._state)

    async def _greet(self, room_id: str, info: RoomInfo) -> None:
        """First message in a room whose encryption state is now known."""
        assert self._handle is not None
        try:
            with self.sender.answering(room_id):  # the agent just opened the chat
                if info.direct:
                    key = conversation(room_id, info.peer)
                    await self._handle(IncomingStart(key=key, event_id=f"join:{room_id}"))
                else:
                    await self.send_text(
                        conversation(room_id, info.peer), self.catalogue.t("matrix.group_room")
                    )
            info.greeted = True
            self._state_file.save(self._state)
        finally:
            self._greeting.discard(room_id)


def _warn_if(response: object, error: type) -> None:
    if isinstance(response, error):
        log.warning("encryption request failed: %r", response)
