"""The privacy notice gives the data protection officer's address the operator set."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_privacy import USER, register_with_email

from config.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, admins=("test:admin",), privacy_contact="dpd@example.org")


async def test_the_privacy_notice_gives_the_data_protection_officers_address(
    agent_factory,
) -> None:  # type: ignore[no-untyped-def]
    """Found in a terminal trial: « écrire au délégué à la protection des données » with no
    address to write to (RECUEIL_PRIVACY_CONTACT, docs/configuration.md)."""
    camille = agent_factory(USER)
    await register_with_email(camille)
    await camille.say("confidentialité")
    assert "délégué à la protection des données de l’ANCT (dpd@example.org) et" in camille.text
