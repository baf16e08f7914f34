"""No personal data in the journal at INFO: user ids pseudonymised, no e-mail, no message text."""

from __future__ import annotations

import logging

import pytest

from bot.app.engine import Engine
from bot.core.transport import DeliveryRefused, Transport
from bot.core.values import ConversationKey, IncomingText


class RefusingTransport(Transport):
    """A platform whose user blocked the bot: the engine logs the refusal at INFO."""

    name = "matrix"

    async def send_text(self, key: ConversationKey, text: str) -> None:
        raise DeliveryRefused("blocked")


async def test_an_info_journal_line_about_a_conversation_names_no_user_id(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    # A Tchap id holds the agent's professional e-mail address.
    user = "@marie.durand-villeurbanne.fr:agent.collectivites.tchap.gouv.fr"
    engine.register(RefusingTransport())
    key = ConversationKey("matrix", "!salon:tchap", user)
    with caplog.at_level(logging.INFO):
        await engine.handle(IncomingText(key=key, text="Mon adresse : marie@villeurbanne.fr"))
    journal = "\n".join(record.getMessage() for record in caplog.records)
    assert "refused" in journal  # the line is there...
    assert str(key) in journal  # ...naming the conversation by its pseudonym
    assert "marie" not in journal
    assert "villeurbanne" not in journal
    assert "!salon" not in journal
