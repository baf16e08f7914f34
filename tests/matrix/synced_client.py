"""A matrix-nio client driven by explicit sync calls, for tests.

``AsyncClient.sync()`` alone does not do the end-to-end-encryption chores:
only ``sync_forever()`` uploads keys, queries and claims them and sends queued
to-device messages between syncs. ``SyncedClient.sync_once`` does the same
after every sync, so tests can wait for precise events with a bounded timeout
instead of running a background loop and sleeping.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from nio import (
    AsyncClient,
    EnableEncryptionBuilder,
    Event,
    InviteMemberEvent,
    JoinResponse,
    KeysClaimResponse,
    KeysQueryResponse,
    KeysUploadResponse,
    RoomCreateResponse,
    RoomMessageText,
    RoomPreset,
    RoomSendResponse,
    SyncResponse,
    ToDeviceError,
)

from .synapse_server import RegisteredUser

MEGOLM = "m.megolm.v1.aes-sha2"
LONG_POLL_MS = 10_000
WAIT_SECONDS = 30.0
SYNC_FILTER = {"room": {"timeline": {"limit": 100}}}
"""Without a filter Synapse sends at most 10 timeline events per room and sync: a burst of
more (a bot answering many messages at once) left a gap the client never saw."""

ResponseT = TypeVar("ResponseT")


def check(response: object, expected: type[ResponseT]) -> ResponseT:
    """Turn a nio error value into a test failure that shows the error."""
    if not isinstance(response, expected):
        raise AssertionError(f"expected {expected.__name__}, got {response!r}")
    return response


@dataclass(frozen=True)
class TimelineEntry:
    """One timeline event as a sync delivered it (already decrypted by nio)."""

    room_id: str
    event: Event


@dataclass
class SyncedClient:
    """A logged-in nio client and everything its syncs have delivered."""

    client: AsyncClient
    user: RegisteredUser
    timeline: list[TimelineEntry] = field(default_factory=list)
    invites: list[tuple[str, InviteMemberEvent]] = field(default_factory=list)

    @property
    def user_id(self) -> str:
        return self.user.user_id

    async def sync_once(self, timeout_ms: int = LONG_POLL_MS) -> SyncResponse:
        """One sync (long poll), then the key and to-device chores."""
        response = check(
            await self.client.sync(timeout=timeout_ms, sync_filter=SYNC_FILTER), SyncResponse
        )
        for room_id, info in response.rooms.join.items():
            self.timeline.extend(TimelineEntry(room_id, event) for event in info.timeline.events)
        for room_id, invite in response.rooms.invite.items():
            self.invites.extend(
                (room_id, event)
                for event in invite.invite_state
                if isinstance(event, InviteMemberEvent)
            )
        await self.encryption_chores()
        return response

    async def encryption_chores(self) -> None:
        """What ``sync_forever`` does between syncs, with every error checked."""
        client = self.client
        if client.should_upload_keys:
            check(await client.keys_upload(), KeysUploadResponse)
        if client.should_query_keys:
            check(await client.keys_query(), KeysQueryResponse)
        if client.should_claim_keys:
            users = client.get_users_for_key_claiming()
            check(await client.keys_claim(users), KeysClaimResponse)
        for sent in await client.send_to_device_messages():
            if isinstance(sent, ToDeviceError):
                raise AssertionError(f"to-device message failed: {sent!r}")

    async def sync_until(
        self, condition: Callable[[], bool], what: str, within: float = WAIT_SECONDS
    ) -> None:
        """Sync until ``condition()`` holds; fail after ``within`` seconds."""
        try:
            async with asyncio.timeout(within):
                while not condition():
                    await self.sync_once()
        except TimeoutError:
            raise AssertionError(f"{self.user_id}: no {what} within {within}s") from None

    async def wait_for_event(
        self,
        room_id: str,
        predicate: Callable[[Event], bool],
        what: str,
        within: float = WAIT_SECONDS,
    ) -> Event:
        """The first timeline event of a room matching ``predicate``.

        Events delivered by earlier syncs count too, so an event that arrived
        while waiting for something else is not missed.
        """
        found: list[Event] = []

        def seen() -> bool:
            found.extend(
                entry.event
                for entry in self.timeline
                if entry.room_id == room_id and predicate(entry.event)
            )
            return bool(found)

        await self.sync_until(seen, what, within)
        return found[0]

    async def send(
        self, room_id: str, event_type: str, content: dict[str, Any]
    ) -> RoomSendResponse:
        """Send to a room, encrypting if nio knows it is encrypted."""
        response = await self.client.room_send(
            room_id, event_type, content, ignore_unverified_devices=True
        )
        return check(response, RoomSendResponse)


def is_joined(client: AsyncClient, room_id: str, user_id: str) -> bool:
    """Whether ``client``'s synced state shows ``user_id`` joined to the room."""
    room = client.rooms.get(room_id)
    return room is not None and user_id in room.users and user_id not in room.invited_users


async def open_encrypted_dm(inviter: SyncedClient, invitee: SyncedClient) -> str:
    """Create an encrypted direct room as Tchap clients do; both sides synced.

    The inviter creates a ``trusted_private_chat`` with ``is_direct`` and the
    ``m.room.encryption`` state; the invitee joins on the invite. Returns
    when each client's synced state shows the room encrypted and both members
    joined. A client must have synced the room before sending: with Olm
    loaded, ``room_send`` raises ``LocalProtocolError`` for a room missing
    from ``client.rooms``, and would send in clear text into a room whose
    ``m.room.encryption`` state it has not seen yet. (nio shares the room key
    with invited members too, so the inviter's wait for the join is for a
    settled state, not for decryption.)
    """
    created = await inviter.client.room_create(
        is_direct=True,
        preset=RoomPreset.trusted_private_chat,
        invite=[invitee.user_id],
        initial_state=[EnableEncryptionBuilder().as_dict()],
    )
    room_id = check(created, RoomCreateResponse).room_id

    await invitee.sync_until(
        lambda: room_id in invitee.client.invited_rooms, f"invite to {room_id}"
    )
    check(await invitee.client.join(room_id), JoinResponse)
    await invitee.sync_until(
        lambda: room_id in invitee.client.rooms and invitee.client.rooms[room_id].encrypted,
        f"encrypted state of {room_id}",
    )
    await inviter.sync_until(
        lambda: is_joined(inviter.client, room_id, invitee.user_id),
        f"join of {invitee.user_id}",
    )
    return room_id


ClientFactory = Callable[..., Awaitable[SyncedClient]]
"""The ``matrix_client`` fixture: ``await matrix_client("alice", **options)``."""


@dataclass
class BotChat:
    """An agent's encrypted direct room with the bot, read in order.

    ``expect(fragment)`` waits for the next bot message containing ``fragment`` and
    returns every bot message since the previous call, so a test checks each reply of a
    turn, in order, and that nothing else came in between.
    """

    agent: SyncedClient
    room_id: str
    bot_id: str
    seen: int = 0

    def bot_messages(self) -> list[RoomMessageText]:
        return [
            entry.event
            for entry in self.agent.timeline
            if entry.room_id == self.room_id
            and entry.event.sender == self.bot_id
            and isinstance(entry.event, RoomMessageText)
        ]

    async def expect(self, fragment: str, within: float = WAIT_SECONDS) -> list[str]:
        found: list[int] = []

        def arrived() -> bool:
            bodies = [event.body for event in self.bot_messages()]
            found[:] = [i for i in range(self.seen, len(bodies)) if fragment in bodies[i]][:1]
            return bool(found)

        await self.agent.sync_until(arrived, f"bot message with {fragment!r}", within)
        bodies = [event.body for event in self.bot_messages()]
        fresh, self.seen = bodies[self.seen : found[0] + 1], found[0] + 1
        return fresh

    async def say(self, text: str, then: str) -> list[str]:
        """Send ``text`` and return the bot's replies up to the one containing ``then``."""
        await self.agent.send(self.room_id, "m.room.message", {"msgtype": "m.text", "body": text})
        return await self.expect(then)


async def open_chat_with_bot(agent: SyncedClient, bot_id: str) -> BotChat:
    """Open an encrypted direct room with the bot, as Tchap does; the bot joins by itself."""
    created = await agent.client.room_create(
        is_direct=True,
        preset=RoomPreset.trusted_private_chat,
        invite=[bot_id],
        initial_state=[EnableEncryptionBuilder().as_dict()],
    )
    room_id = check(created, RoomCreateResponse).room_id
    await agent.sync_until(
        lambda: room_id in agent.client.rooms and agent.client.rooms[room_id].encrypted,
        f"encrypted state of {room_id}",
    )
    return BotChat(agent, room_id, bot_id)
