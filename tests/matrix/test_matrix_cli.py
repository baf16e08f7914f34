"""``recueil run`` as an administrator starts it: four variables, then agents chat on Matrix."""

from __future__ import annotations

from pathlib import Path

from recueil_process import recueil_run

from .synapse_server import SynapseServer
from .synced_client import ClientFactory, open_chat_with_bot


async def test_recueil_run_with_the_four_variables(
    synapse: SynapseServer, matrix_client: ClientFactory, tmp_path: Path
) -> None:
    bot = await synapse.register("recueil-cli", exempt_from_rate_limits=True)
    async with recueil_run(
        RECUEIL_DATA_DIR=str(tmp_path),
        RECUEIL_MATRIX_HOMESERVER=synapse.url,
        RECUEIL_MATRIX_USER_ID=bot.user_id,
        RECUEIL_MATRIX_PASSWORD=bot.password,
        RECUEIL_MATRIX_SECONDS_BETWEEN_REQUESTS="0",
    ) as running:
        agent = await matrix_client("agent", exempt_from_rate_limits=True)
        chat = await open_chat_with_bot(agent, bot.user_id)
        welcome = await chat.expect("Quelle est votre collectivité", within=90)
        assert "Bonjour et bienvenue" in welcome[0]
        [reply] = await chat.say("Villeurbanne", then="Vous êtes")
        assert "Vous êtes" in reply
    assert running.process.returncode == 0, running.journal
    assert bot.password not in running.journal  # the secret never reaches the journal
    assert (tmp_path / "matrix" / "credentials.json").is_file()  # logged in once, kept
