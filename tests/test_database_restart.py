"""The PostgreSQL server restarts in the middle of traffic: no message lost, none answered twice.

The shared test server cannot be restarted under other engineers' tests: this test starts a
private PostgreSQL cluster of its own (the machine's ``initdb`` and ``pg_ctl``, as the
``postgres`` user when run as root), runs one ``recueil run`` webhook worker on it, and
restarts the server (``pg_ctl restart -m fast``: every session cut, transactions in flight
rolled back) while agents are doing the intake. The engine plays a turn cut by the restart
again once the pool reconnects; the agents see nothing but a pause.
"""

from __future__ import annotations

import asyncio
import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from databases import PG_URL
from recueil_process import recueil_run
from webhook_load import (
    FakeBotApi,
    check_each_message_sent_once_in_order,
    check_intake_done_once,
    free_port,
    post,
    script,
    worker_variables,
)

from config.settings import normalize_database_url
from storage.store import Store

AGENTS = 20


class Cluster:
    """A throwaway PostgreSQL server in a temporary directory, on its own port."""

    def __init__(self, bin_dir: Path, root: Path, port: int) -> None:
        self.bin_dir, self.data, self.port = bin_dir, root / "data", port
        self.log = root / "server.log"
        self.as_postgres = os.geteuid() == 0  # the server refuses to run as root

    def _run(self, *command: str) -> None:
        argv = [str(self.bin_dir / command[0]), *command[1:]]
        if self.as_postgres:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        subprocess.run(argv, check=True, capture_output=True, timeout=120)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    def _options(self) -> str:
        return f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"

    def start(self) -> None:
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            self._options(),
            "-w",
            "start",
        )

    def restart(self) -> None:
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", self._options(),
            "-m", "fast", "-w", "restart",
        )  # fmt: skip

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    if not PG_URL:
        pytest.skip("RECUEIL_TEST_DATABASE_URL is not set")  # CI always sets it
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb")) or [shutil.which("initdb")]
    if not found[-1]:
        pytest.skip("no PostgreSQL server binaries (initdb) on this machine")
    root = Path(tempfile.mkdtemp(prefix="recueil-pg-"))
    root.chmod(0o777)
    cluster = Cluster(Path(str(found[-1])).parent, root, free_port())
    if cluster.as_postgres:
        shutil.chown(root, "postgres")
    cluster.init()
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


async def test_a_database_restart_in_the_middle_of_traffic_loses_and_repeats_nothing(
    cluster: Cluster, tmp_path: Path
) -> None:
    store = Store.open(normalize_database_url(cluster.url))
    port = free_port()
    posted = 0
    halfway = asyncio.Event()
    total = AGENTS * (len(script(0)) + 1)
    try:
        async with (
            FakeBotApi() as api,
            recueil_run(**worker_variables(api, cluster.url, port, tmp_path / "worker")) as bot,
            aiohttp.ClientSession() as http,
        ):
            await api.wait_until(lambda: api.calls_to("setWebhook"), timeout=120, what="webhook")

            async def send(update_id: int) -> None:
                nonlocal posted
                await post(api, http, update_id, port)
                posted += 1
                if posted >= total // 2:
                    halfway.set()

            async def agent(number: int) -> None:
                chat = 20_000 + number
                await send(await api.user_starts(chat))
                for text in script(number):
                    await send(await api.user_sends_text(chat, text))

            async def restart_halfway() -> int:
                await halfway.wait()
                at = posted
                await asyncio.to_thread(cluster.restart)
                return at

            load = asyncio.gather(*(agent(n) for n in range(AGENTS)))
            restarted_at, _ = await asyncio.gather(restart_halfway(), load)
            assert restarted_at < total  # the server went down with updates still to come
        assert bot.process.returncode == 0, bot.journal

        check_each_message_sent_once_in_order(store, api)
        check_intake_done_once(store, api, [20_000 + n for n in range(AGENTS)], total)
    finally:
        store.close()
