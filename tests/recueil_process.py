"""``recueil run`` as a subprocess, configured only through its environment, as deployed."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field


@dataclass
class RunningBot:
    process: asyncio.subprocess.Process
    journal: str = field(default="")  # what it wrote on stderr, once stopped
    _lines: list[bytes] = field(default_factory=list)
    _seen: int = 0  # lines already returned by ``journal_until``
    _ended: bool = False
    _grew: asyncio.Event = field(default_factory=asyncio.Event)

    async def kill(self) -> None:
        """``kill -9``: the process dies wherever it is, with nothing cleaned up."""
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def journal_until(self, marker: str, timeout: float = 90) -> str:  # noqa: ASYNC109
        """The journal since the previous call, up to the first line containing ``marker``."""

        async def find() -> str:
            while True:
                for index in range(self._seen, len(self._lines)):
                    if marker in self._lines[index].decode(errors="replace"):
                        text = b"".join(self._lines[self._seen : index + 1]).decode()
                        self._seen = index + 1
                        return text
                assert not self._ended, "the bot stopped: " + b"".join(self._lines).decode()
                self._grew.clear()
                await self._grew.wait()

        return await asyncio.wait_for(find(), timeout)

    async def _read_journal(self) -> None:
        # Read as it comes: a journal left in the pipe would block the bot once it is full.
        assert self.process.stderr is not None
        while line := await self.process.stderr.readline():
            self._lines.append(line)
            self._grew.set()
        self._ended = True
        self._grew.set()


@contextlib.asynccontextmanager
async def recueil_run(**variables: str) -> AsyncIterator[RunningBot]:
    """Start ``recueil run`` with only these ``RECUEIL_*`` variables; stop it with SIGTERM
    (unless the test killed it).

    The journal is complete once the process has exited; the caller checks the exit code.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECUEIL_")}
    env.update(variables, PYTHONFAULTHANDLER="1")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.app.cli",
        "run",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    bot = RunningBot(process)
    reader = asyncio.create_task(bot._read_journal())
    try:
        yield bot
    finally:
        if process.returncode is None:
            process.terminate()
        await asyncio.wait_for(asyncio.gather(process.wait(), reader), timeout=60)
        bot.journal = b"".join(bot._lines).decode()
