"""Who may invite the bot, and starting only with encryption."""

from __future__ import annotations

import pytest
from nio import AsyncClient, Event, RoomCreateResponse, RoomMemberEvent

from bot.transports.matrix import MatrixStartupError
from bot.transports.matrix.identity import require_encryption
from config.catalogue import default_catalogue

from .conftest import BotFactory
from .synapse_server import SynapseServer
from .synced_client import ClientFactory, check


async def test_invitation_from_a_server_not_allowed_is_declined_with_a_reason(
    matrix_client: ClientFactory, recueil_bot: BotFactory
) -> None:
    # Only Tchap's agents servers are allowed: localhost, the agent's server, is not.
    bot = await recueil_bot(allowed_servers=("agent.*.tchap.gouv.fr",))
    outsider = await matrix_client("outsider")
    created = await outsider.client.room_create(is_direct=True, invite=[bot.user_id])
    room_id = check(created, RoomCreateResponse).room_id

    def declined(event: Event) -> bool:
        return (
            isinstance(event, RoomMemberEvent)
            and event.state_key == bot.user_id
            and event.membership == "leave"
        )

    event = await outsider.wait_for_event(room_id, declined, "the bot declining")
    reason = event.source["content"]["reason"]
    assert reason == default_catalogue().t("matrix.invite_refused", server="localhost")
    assert "localhost" in reason
    assert bot.user_id not in outsider.client.rooms[room_id].users  # never joined
    assert not any(i.key.chat == room_id for i in bot.incoming)


async def test_encryption_unavailable_refuses_to_start(synapse: SynapseServer) -> None:
    # nio without a store path has no Olm and would send clear text (see the harness).
    client = AsyncClient(synapse.url, "@recueil:localhost", store_path=None)
    try:
        with pytest.raises(MatrixStartupError, match="chiffrement de bout en bout"):
            require_encryption(client, default_catalogue())
    finally:
        await client.close()
