"""The Synapse harness works end to end with real, encrypting matrix-nio clients.

These tests also pin the matrix-nio 0.26 behaviours the bot's Matrix adapter
relies on (see tests/matrix/README.md): if nio changes them, a test here fails.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from nio import (
    Event,
    InviteMemberEvent,
    MegolmEvent,
    OlmUnverifiedDeviceError,
    RoomCreateResponse,
    RoomEncryptionEvent,
    RoomMessageText,
    RoomSendError,
    RoomSendResponse,
    UnknownEvent,
)

from .synapse_server import SynapseError, SynapseServer
from .synced_client import MEGOLM, ClientFactory, SyncedClient, check, open_encrypted_dm

POLL_START = "org.matrix.msc3381.poll.start"
POLL_RESPONSE = "org.matrix.msc3381.poll.response"
STABLE_POLL_RESPONSE = "m.poll.response"
TEXT = "org.matrix.msc1767.text"

# Synapse's default rc_message burst; the harness must leave it untouched.
DEFAULT_MESSAGE_BURST = 10


def text_from(sender: str, body: str) -> Callable[[Event], bool]:
    """Predicate: a decrypted text message from ``sender`` with ``body``."""

    def matches(event: Event) -> bool:
        return isinstance(event, RoomMessageText) and event.sender == sender and event.body == body

    return matches


def of_type(event_type: str, sender: str) -> Callable[[Event], bool]:
    """Predicate: an event nio could not map to a class, by its Matrix type.

    Decrypted events whose type nio 0.26 does not know (polls among them)
    arrive as ``UnknownEvent`` with ``.type`` set and the decrypted content
    in ``.source["content"]``; ``UnknownEncryptedEvent`` is something else
    (an encrypted event with an unknown *algorithm*).
    """

    def matches(event: Event) -> bool:
        return (
            isinstance(event, UnknownEvent) and event.type == event_type and event.sender == sender
        )

    return matches


async def assert_encrypted_on_the_wire(
    synapse: SynapseServer, reader: SyncedClient, room_id: str, event_id: str, secret: str
) -> dict[str, Any]:
    """The server holds the event as ``m.room.encrypted``, without the plaintext.

    ``secret`` must hold a character outside base64 (a space, a dot) so that it
    cannot turn up by chance in the ciphertext.
    """
    raw = await synapse.raw_event(reader.user.access_token, room_id, event_id)
    assert raw["type"] == "m.room.encrypted"
    assert raw["content"]["algorithm"] == MEGOLM
    assert secret not in str(raw)
    return raw


async def test_direct_room_is_encrypted_and_joined_on_invite(
    matrix_client: ClientFactory,
) -> None:
    alice = await matrix_client("alice")
    bob = await matrix_client("bob")

    room_id = await open_encrypted_dm(alice, bob)

    # The invite state holds several m.room.member events; bob's own says
    # is_direct (the only place a DM is marked: nio writes no m.direct).
    invite = next(
        event for rid, event in bob.invites if rid == room_id and event.state_key == bob.user_id
    )
    assert isinstance(invite, InviteMemberEvent)
    assert invite.membership == "invite"
    assert invite.content.get("is_direct") is True
    for side in (alice, bob):
        room = side.client.rooms[room_id]
        assert room.encrypted
        assert set(room.users) == {alice.user_id, bob.user_id}
    encryption = await bob.wait_for_event(
        room_id, lambda event: isinstance(event, RoomEncryptionEvent), "m.room.encryption"
    )
    assert encryption.source["content"]["algorithm"] == MEGOLM


async def test_encrypted_message_is_decrypted_by_the_invitee(
    synapse: SynapseServer, matrix_client: ClientFactory
) -> None:
    alice = await matrix_client("alice")
    bob = await matrix_client("bob")
    room_id = await open_encrypted_dm(alice, bob)
    body = "Bonjour, quel est votre besoin numérique ?"

    sent = await alice.send(room_id, "m.room.message", {"msgtype": "m.text", "body": body})

    received = await bob.wait_for_event(room_id, text_from(alice.user_id, body), "alice's text")
    assert received.event_id == sent.event_id
    assert received.decrypted
    await assert_encrypted_on_the_wire(synapse, bob, room_id, sent.event_id, body)


async def test_encrypted_reply_is_decrypted_by_the_inviter(
    synapse: SynapseServer, matrix_client: ClientFactory
) -> None:
    alice = await matrix_client("alice")
    bob = await matrix_client("bob")
    room_id = await open_encrypted_dm(alice, bob)
    await alice.send(room_id, "m.room.message", {"msgtype": "m.text", "body": "Bonjour"})
    await bob.wait_for_event(room_id, text_from(alice.user_id, "Bonjour"), "alice's text")
    reply = "Un guichet numérique pour les demandes d'état civil."

    sent = await bob.send(room_id, "m.room.message", {"msgtype": "m.text", "body": reply})

    received = await alice.wait_for_event(room_id, text_from(bob.user_id, reply), "bob's reply")
    assert received.event_id == sent.event_id
    assert received.decrypted
    await assert_encrypted_on_the_wire(synapse, alice, room_id, sent.event_id, reply)


async def test_send_to_unverified_devices_raises_unless_ignored(
    matrix_client: ClientFactory,
) -> None:
    alice = await matrix_client("alice")
    bob = await matrix_client("bob")
    room_id = await open_encrypted_dm(alice, bob)

    with pytest.raises(OlmUnverifiedDeviceError):
        await alice.client.room_send(room_id, "m.room.message", {"msgtype": "m.text", "body": "x"})

    await alice.send(room_id, "m.room.message", {"msgtype": "m.text", "body": "y"})
    await bob.wait_for_event(room_id, text_from(alice.user_id, "y"), "message after ignoring")


async def test_poll_start_and_responses_cross_an_encrypted_room(
    synapse: SynapseServer, matrix_client: ClientFactory
) -> None:
    alice = await matrix_client("alice")
    bob = await matrix_client("bob")
    room_id = await open_encrypted_dm(alice, bob)
    question = "Votre collectivité a-t-elle un agent dédié au numérique ?"
    poll = {
        POLL_START: {
            "question": {TEXT: question},
            "kind": "org.matrix.msc3381.poll.disclosed",
            "max_selections": 1,
            "answers": [{"id": "oui", TEXT: "Oui"}, {"id": "non", TEXT: "Non"}],
        },
        TEXT: f"{question}\n1. Oui\n2. Non",
    }

    start = await alice.send(room_id, POLL_START, poll)

    received = await bob.wait_for_event(room_id, of_type(POLL_START, alice.user_id), "poll")
    assert received.event_id == start.event_id
    assert received.decrypted
    assert received.source["content"][POLL_START]["question"][TEXT] == question
    await assert_encrypted_on_the_wire(synapse, bob, room_id, start.event_id, question)

    reference = {"rel_type": "m.reference", "event_id": start.event_id}
    unstable = await bob.send(
        room_id, POLL_RESPONSE, {"m.relates_to": reference, POLL_RESPONSE: {"answers": ["oui"]}}
    )
    stable = await bob.send(
        room_id, STABLE_POLL_RESPONSE, {"m.relates_to": reference, "m.selections": ["non"]}
    )

    answer = await alice.wait_for_event(room_id, of_type(POLL_RESPONSE, bob.user_id), "answer")
    assert answer.event_id == unstable.event_id
    assert answer.source["content"][POLL_RESPONSE] == {"answers": ["oui"]}
    assert answer.source["content"]["m.relates_to"] == reference
    stable_answer = await alice.wait_for_event(
        room_id, of_type(STABLE_POLL_RESPONSE, bob.user_id), "stable answer"
    )
    assert stable_answer.event_id == stable.event_id
    assert stable_answer.source["content"]["m.selections"] == ["non"]
    # nio copies m.relates_to into the clear so the server can aggregate it.
    raw = await assert_encrypted_on_the_wire(
        synapse, alice, room_id, unstable.event_id, POLL_RESPONSE
    )
    assert raw["content"]["m.relates_to"] == reference


async def test_default_message_rate_limit_answers_limit_exceeded(
    matrix_client: ClientFactory,
) -> None:
    # TEST_CLIENT_CONFIG sets max_limit_exceeded=0: with nio's default (None)
    # room_send would sleep retry_after_ms and retry, never returning the error.
    carol = await matrix_client("carol")
    room_id = check(await carol.client.room_create(), RoomCreateResponse).room_id
    # With Olm loaded, room_send looks the room up in client.rooms: sync first.
    await carol.sync_until(lambda: room_id in carol.client.rooms, "created room")

    responses = []
    for number in range(3 * DEFAULT_MESSAGE_BURST):
        response = await carol.client.room_send(
            room_id, "m.room.message", {"msgtype": "m.text", "body": f"message {number}"}
        )
        responses.append(response)
        if isinstance(response, RoomSendError):
            break

    refused = responses[-1]
    assert isinstance(refused, RoomSendError), "no rate limit within 3 bursts"
    assert refused.status_code == "M_LIMIT_EXCEEDED"
    assert refused.retry_after_ms is not None and refused.retry_after_ms > 0
    assert all(isinstance(response, RoomSendResponse) for response in responses[:-1])


async def test_rate_limit_exemption_lifts_message_limit(matrix_client: ClientFactory) -> None:
    bot = await matrix_client("bot", exempt_from_rate_limits=True)
    room_id = check(await bot.client.room_create(), RoomCreateResponse).room_id
    await bot.sync_until(lambda: room_id in bot.client.rooms, "created room")

    for number in range(3 * DEFAULT_MESSAGE_BURST):
        await bot.send(room_id, "m.room.message", {"msgtype": "m.text", "body": f"n° {number}"})


async def test_nio_without_store_path_sends_plaintext_into_encrypted_room(
    synapse: SynapseServer, matrix_client: ClientFactory
) -> None:
    """A gotcha pinned: no store path means no Olm, silently, even when asked.

    ``AsyncClientConfig(encryption_enabled=True)`` with ``store_path`` None or
    "" leaves ``client.olm`` None; room_send then sends ``m.room.message`` in
    clear text into an encrypted room, and encrypted events stay
    ``MegolmEvent``.
    """
    alice = await matrix_client("alice")
    storeless = await matrix_client("storeless", store=False)
    assert storeless.client.olm is None
    room_id = await open_encrypted_dm(alice, storeless)
    assert storeless.client.rooms[room_id].encrypted

    sent = await storeless.send(room_id, "m.room.message", {"msgtype": "m.text", "body": "clair"})
    raw = await synapse.raw_event(alice.user.access_token, room_id, sent.event_id)
    assert raw["type"] == "m.room.message"
    assert raw["content"]["body"] == "clair"

    await alice.send(room_id, "m.room.message", {"msgtype": "m.text", "body": "chiffré"})
    undecrypted = await storeless.wait_for_event(
        room_id,
        lambda event: isinstance(event, MegolmEvent) and event.sender == alice.user_id,
        "alice's encrypted message",
    )
    assert isinstance(undecrypted, MegolmEvent)


async def test_encrypted_dm_survives_a_server_restart(
    synapse: SynapseServer, matrix_client: ClientFactory
) -> None:
    alice = await matrix_client("alice")
    bob = await matrix_client("bob")
    room_id = await open_encrypted_dm(alice, bob)
    await alice.send(room_id, "m.room.message", {"msgtype": "m.text", "body": "avant"})
    await bob.wait_for_event(room_id, text_from(alice.user_id, "avant"), "message before")

    await synapse.restart()

    await alice.send(room_id, "m.room.message", {"msgtype": "m.text", "body": "après"})
    await bob.wait_for_event(room_id, text_from(alice.user_id, "après"), "message after")


async def test_startup_failure_shows_synapse_output() -> None:
    server = SynapseServer(config_overrides={"database": {"name": "no-such-engine"}})
    with pytest.raises(SynapseError, match="Unsupported database type 'no-such-engine'"):
        await server.start()
    assert not server.running
    server.cleanup()
    assert not server.workdir.exists()
