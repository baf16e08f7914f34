"""Shared fixtures: a store on every backend, the services, an engine and simulated agents."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio
from databases import PG_URL, drop_postgres_schema, fresh_postgres_url
from fake_transport import FakeTransport, SimulatedAgent

from bot.app.engine import Engine
from bot.app.services import build_services, similarity_index
from bot.core.values import Outgoing
from config.settings import Settings
from storage.store import Store

BACKENDS = ["sqlite", *(["postgresql"] if PG_URL else [])]


class Clock:
    """A settable clock: the dialogue's notion of now (phases, resuming a draft)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'recueil.sqlite3'}"
    else:
        url = fresh_postgres_url()
        yield url
        drop_postgres_schema(url)


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    store = Store.open(database_url)
    yield store
    store.close()


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 12, 1, 9, 30, tzinfo=UTC))


@pytest.fixture
def settings(tmp_path) -> Settings:  # type: ignore[no-untyped-def]
    return Settings(data_dir=tmp_path, admins=("test:admin",))


@pytest.fixture
def services(settings: Settings):  # type: ignore[no-untyped-def]
    return build_services(settings)


@pytest_asyncio.fixture(loop_scope="function")
async def engine_with_search(services, store: Store, clock: Clock) -> AsyncIterator[Engine]:  # type: ignore[no-untyped-def]
    engine = Engine(replace(services, similar=similarity_index(store)), store, clock=clock)
    engine.register(FakeTransport())
    yield engine
    await engine.close()


@pytest_asyncio.fixture(loop_scope="function")
async def engine(services, store: Store, clock: Clock) -> AsyncIterator[Engine]:  # type: ignore[no-untyped-def]
    engine = Engine(services, store, clock=clock)
    engine.register(FakeTransport())
    yield engine
    await engine.close()


@pytest.fixture
def transport(engine: Engine) -> FakeTransport:
    return engine._transports["test"]  # type: ignore[return-value]


@pytest.fixture
def agent_factory(engine: Engine, transport: FakeTransport):  # type: ignore[no-untyped-def]
    def make(user: str = "alice") -> SimulatedAgent:
        return SimulatedAgent(engine, transport, user)

    return make


def texts(replies: list[Outgoing]) -> str:
    return "\n".join(getattr(r, "text", "") or getattr(r, "question", "") for r in replies)


@pytest.fixture(scope="session")
def reduced_thematique_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reduced thématique model (``test_nlp_retrain``), trained once per worker: its
    reproduction is checked there, and ``test_learning`` compares retrainings with it."""
    from test_nlp_retrain import reduced_thematique

    output = tmp_path_factory.mktemp("reduced-thematique")
    reduced_thematique(output)
    return output
