"""Several processes starting at once on an empty database: one migrates, the others wait."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from databases import PG_URL, drop_postgres_schema, fresh_postgres_url

from storage.db import create_db_engine, current_revision, head_revision

RECUEIL = [sys.executable, "-m", "bot.app.cli"]


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'recueil.sqlite3'}"
        return
    if not PG_URL:
        pytest.skip("RECUEIL_TEST_DATABASE_URL is not set")
    url = fresh_postgres_url()
    yield url
    drop_postgres_schema(url)


def test_four_processes_starting_at_once_on_an_empty_database_all_start(
    empty_database: str, tmp_path: Path
) -> None:
    # On PostgreSQL 9 of 12 used to crash: UniqueViolation on pg_type_typname_nsp_index.
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECUEIL_")}
    env.update(RECUEIL_DATA_DIR=str(tmp_path), RECUEIL_DATABASE_URL=empty_database)
    processes = [
        subprocess.Popen(
            [*RECUEIL, "export", "--format", "json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(4)
    ]
    results = [(process.wait(timeout=120), process.communicate()) for process in processes]
    for code, (out, errors) in results:
        assert code == 0, errors
        assert out.strip() == "[]"
    engine = create_db_engine(empty_database)
    try:
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()
