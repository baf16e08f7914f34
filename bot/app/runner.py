"""``recueil run``: every configured transport, side by side, until interrupted."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from functools import partial

from bot.app import metrics as health
from bot.app.leader import RETRY_SECONDS, lead
from bot.app.scheduler import build_scheduler
from bot.app.services import build_engine
from bot.app.supervision import supervise
from bot.transports.console import ConsoleTransport, files_dir
from config.settings import Settings
from storage.leader import LeaderLock

log = logging.getLogger(__name__)


async def run_bot(settings: Settings, *, console_user: str) -> None:
    engine = build_engine(settings)
    metrics = engine.metrics
    on_state = metrics.transport_state if metrics is not None else None
    runners = []
    if settings.matrix_homeserver:
        from bot.transports.matrix import MatrixTransport

        matrix = MatrixTransport(settings, catalogue=engine.services.catalogue, store=engine.store)
        engine.register(matrix)
        runners.append(supervise("matrix", partial(matrix.run, engine.handle), on_state=on_state))
    if settings.telegram_token:
        from bot.transports.telegram import TelegramTransport

        telegram = TelegramTransport(
            settings, catalogue=engine.services.catalogue, store=engine.store
        )
        engine.register(telegram)
        runners.append(
            supervise("telegram", partial(telegram.run, engine.handle), on_state=on_state)
        )
    if not runners:
        log.info("aucun transport configuré : discussion dans le terminal")
        console = ConsoleTransport(
            console_user,
            files_dir=files_dir(settings.data_dir),
            catalogue=engine.services.catalogue,
        )
        engine.register(console)
        runners.append(console.run(engine.handle))
        if on_state is not None:
            on_state("console", True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    # Transports start first: Matrix sends only once its first sync knows the rooms.
    tasks = [asyncio.create_task(runner) for runner in runners]
    scheduler = build_scheduler(engine, settings)
    server = None
    try:
        if metrics is not None and settings.metrics_address:
            metrics.watch(scheduler)
            server = await health.serve(
                metrics, engine.store, engine.run_db, settings.metrics_address
            )
        await engine.redeliver_pending()
        if engine.store.is_sqlite:  # one process per base (bot/app/instance.py)
            scheduler.start()
        else:  # maybe several processes: the elected one runs the jobs
            scheduler.start(paused=True)
            every = min(float(settings.schedule_seconds), RETRY_SECONDS)
            tasks.append(
                asyncio.create_task(lead(LeaderLock(engine.store.engine), scheduler, every))
            )
        stopper = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait([*tasks, stopper], return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        for task in done:
            if task is not stopper and not task.cancelled() and task.exception():
                raise task.exception()  # type: ignore[misc]
    finally:
        if server is not None:
            await server.cleanup()
        if scheduler.running:
            scheduler.shutdown(wait=False)
        for task in tasks:
            task.cancel()
        # Let the transports finish what they were doing (a database write in a thread,
        # closing a connection) before the store they use is closed under them.
        await asyncio.gather(*tasks, return_exceptions=True)
        await engine.close()
        engine.store.close()
