"""``recueil run`` as a subprocess, configured only through its environment, as deployed."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field


@dataclass
class RunningBot:
    process: asyncio.subprocess.Process
    journal: str = field(default="")  # what it wrote on stderr, once stopped


@contextlib.asynccontextmanager
async def recueil_run(**variables: str) -> AsyncIterator[RunningBot]:
    """Start ``recueil run`` with only these ``RECUEIL_*`` variables; stop it with SIGTERM.

    The journal is read once the process has exited; the caller checks the exit code.
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
    try:
        yield bot
    finally:
        if process.returncode is None:  # the test may have killed it
            process.terminate()
        _, errors = await asyncio.wait_for(process.communicate(), timeout=60)
        bot.journal = errors.decode()
