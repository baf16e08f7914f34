"""Fixtures: one Synapse per test session, and logged-in encrypting nio clients."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import replace
from importlib.metadata import version
from pathlib import Path

import pytest
import pytest_asyncio
from nio import AsyncClient, AsyncClientConfig

from .synapse_server import SynapseServer
from .synced_client import ClientFactory, SyncedClient

# Encryption on, sync token kept in the store, and no hidden retries: nio's
# defaults (None) sleep and retry forever on 429 and on connection errors, so
# a test would hang instead of seeing M_LIMIT_EXCEEDED or a dead server.
TEST_CLIENT_CONFIG = AsyncClientConfig(
    encryption_enabled=True,
    store_sync_tokens=True,
    max_limit_exceeded=0,
    max_timeouts=0,
)

_user_numbers = itertools.count(1)


_startup_seconds: list[float] = []


@pytest_asyncio.fixture(scope="session")
async def synapse() -> AsyncIterator[SynapseServer]:
    """The session's homeserver, with Synapse's default rate limits."""
    async with SynapseServer() as server:
        assert server.startup_seconds is not None
        _startup_seconds.append(server.startup_seconds)
        yield server


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Report how long Synapse took to start, when a test started it."""
    if _startup_seconds:
        terminalreporter.write_line(
            f"matrix-synapse {version('matrix-synapse')} started in {_startup_seconds[0]:.1f}s"
        )


@pytest_asyncio.fixture(loop_scope="function")
async def matrix_client(synapse: SynapseServer, tmp_path: Path) -> AsyncIterator[ClientFactory]:
    """A factory of registered, logged-in, key-uploaded and synced clients.

    ``await matrix_client("alice")`` registers a fresh user (a number is added
    to the localpart: the server lives for the whole session), restores the
    registration's access token and device into a nio client whose crypto
    store is under ``tmp_path``, uploads its device keys with one first sync,
    and closes it at teardown. Keyword arguments: ``exempt_from_rate_limits``,
    ``store`` (False gives nio no store path) and ``config`` (field overrides
    of ``TEST_CLIENT_CONFIG``).

    The fixture runs in the test's own event loop (``loop_scope="function"``):
    a nio client's aiohttp session must not outlive or cross loops.
    """
    clients: list[AsyncClient] = []

    async def create(
        localpart: str,
        *,
        exempt_from_rate_limits: bool = False,
        store: bool = True,
        **config: object,
    ) -> SyncedClient:
        name = f"{localpart}-{next(_user_numbers)}"
        user = await synapse.register(name, exempt_from_rate_limits=exempt_from_rate_limits)
        store_path = tmp_path / "stores" / name
        store_path.mkdir(parents=True)
        client = AsyncClient(
            synapse.url,
            user.user_id,
            device_id=user.device_id,
            store_path=str(store_path) if store else None,
            config=replace(TEST_CLIENT_CONFIG, **config),
        )
        clients.append(client)
        # restore_login loads (or creates) the Olm account from the store;
        # it does no request, so the first sync uploads the device keys.
        client.restore_login(user.user_id, user.device_id, user.access_token)
        synced = SyncedClient(client, user)
        await synced.sync_once(timeout_ms=0)
        return synced

    yield create
    for client in clients:
        await client.close()
