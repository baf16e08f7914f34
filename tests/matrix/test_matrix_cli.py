"""``recueil run`` as an administrator starts it: four variables, then agents chat on Matrix."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from .synapse_server import SynapseServer
from .synced_client import ClientFactory, open_chat_with_bot


async def test_recueil_run_with_the_four_variables(
    synapse: SynapseServer, matrix_client: ClientFactory, tmp_path: Path
) -> None:
    bot = await synapse.register("recueil-cli", exempt_from_rate_limits=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECUEIL_")}
    env.update(
        RECUEIL_DATA_DIR=str(tmp_path),
        RECUEIL_MATRIX_HOMESERVER=synapse.url,
        RECUEIL_MATRIX_USER_ID=bot.user_id,
        RECUEIL_MATRIX_PASSWORD=bot.password,
        RECUEIL_MATRIX_SECONDS_BETWEEN_REQUESTS="0",
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        agent = await matrix_client("agent", exempt_from_rate_limits=True)
        chat = await open_chat_with_bot(agent, bot.user_id)
        welcome = await chat.expect("Quelle est votre collectivité", within=90)
        assert "Bonjour et bienvenue" in welcome[0]
        [reply] = await chat.say("Villeurbanne", then="Vous êtes")
        assert "Vous êtes" in reply
    finally:
        process.terminate()
        _, errors = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, errors.decode()
    assert bot.password not in errors.decode()  # the secret never reaches the journal
    assert (tmp_path / "matrix" / "credentials.json").is_file()  # logged in once, kept
