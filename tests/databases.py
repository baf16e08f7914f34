"""The test databases: PostgreSQL when ``RECUEIL_TEST_DATABASE_URL`` is set, one schema a test."""

from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa

from config.settings import normalize_database_url

PG_URL = os.environ.get("RECUEIL_TEST_DATABASE_URL")


def fresh_postgres_url() -> str:
    """A new empty schema in the test database, so parallel runs never collide."""
    assert PG_URL is not None
    url = normalize_database_url(PG_URL)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    engine.dispose()
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


def drop_postgres_schema(url: str) -> None:
    schema = url.rsplit("%3D", 1)[1]
    engine = sa.create_engine(url.split("?options=")[0].split("&options=")[0])
    with engine.begin() as connection:
        connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    engine.dispose()


SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
"""For ``recueil`` commands run as subprocesses (each loads the models, seconds apiece) whose
storage verbs are tested on both backends in process: the command line once, on SQLite."""
