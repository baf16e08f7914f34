"""One ``recueil run`` per SQLite base: a second one refuses to start.

SQLite has one writer and the scheduler and the Matrix sync loop assume they are alone;
two processes on one data directory would answer the same events twice. The first process
holds an ``fcntl`` lock on a file beside the base for its whole life; the kernel drops it
when the process dies, however it dies, so a crash never leaves a stale lock behind.
PostgreSQL deployments coordinate through the database instead.

A second lock file, the use lock, keeps ``recueil db restore`` from replacing the base under
a process that has it open: ``recueil run`` and every ``recueil chat`` hold it shared (two
terminal chats, or a chat beside the bot, still run together), the restore takes it
exclusively and is refused while anyone holds it.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from config.catalogue import Catalogue
from config.settings import Settings


class AlreadyRunning(Exception):
    """Another process holds the base; the message is French and names the lock file."""


class BaseInUse(AlreadyRunning):
    """A restore was asked while a bot or a terminal chat uses the base (or the reverse)."""


def lock_path(settings: Settings) -> Path | None:
    url = sa.engine.make_url(settings.effective_database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(f"{url.database}.run-lock")


def use_lock_path(settings: Settings) -> Path | None:
    path = lock_path(settings)
    return None if path is None else path.with_name(path.name.replace(".run-lock", ".use-lock"))


@contextmanager
def _flock(path: Path, operation: int, refused: BaseException) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle, operation | fcntl.LOCK_NB)
        except BlockingIOError:
            raise refused from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def using_base(settings: Settings, catalogue: Catalogue) -> Iterator[None]:
    """Hold the base's use lock, shared, while the block runs (``run``, ``chat``).

    Raises:
        BaseInUse: a restore is replacing the base right now.
    """
    path = use_lock_path(settings)
    if path is None:
        yield
        return
    refused = BaseInUse(catalogue.t("failure.restoring", data_dir=settings.data_dir))
    with _flock(path, fcntl.LOCK_SH, refused):
        yield


@contextmanager
def base_alone(settings: Settings, catalogue: Catalogue) -> Iterator[None]:
    """Hold the base's use lock exclusively while the block runs (``db restore``).

    Raises:
        BaseInUse: a ``recueil run`` or a ``recueil chat`` has the base open.
    """
    path = use_lock_path(settings)
    if path is None:
        yield
        return
    refused = BaseInUse(catalogue.t("backup.in_use", path=path, data_dir=settings.data_dir))
    with _flock(path, fcntl.LOCK_EX, refused):
        yield


@contextmanager
def single_instance(settings: Settings, catalogue: Catalogue) -> Iterator[None]:
    """Hold the base's run lock while the block runs, or raise :class:`AlreadyRunning`."""
    path = lock_path(settings)
    if path is None:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            raise AlreadyRunning(
                catalogue.t(
                    "failure.already_running",
                    pid=handle.read().strip() or "?",
                    path=path,
                    data_dir=settings.data_dir,
                )
            ) from None
        handle.truncate(0)
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
