"""Health and metrics for a supervisor: ``/health`` and ``/metrics`` on a local HTTP port.

Off unless ``RECUEIL_METRICS_ADDRESS`` is set (``127.0.0.1:9464``). Served by aiohttp from the
bot's own event loop, so what it reports is what the running bot sees:

- ``/health``: 200 and a JSON body (database reachable, each transport up or restarting,
  last run of a scheduled job); 503 when the database does not answer.
- ``/metrics``: the Prometheus text format. The engine counts turns and deliveries as they
  happen (a few counter increments per turn); the delivery queue and the campaigns'
  progress are read from the database at each scrape, in one short transaction.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from aiohttp import web
from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_SCHEDULER_PAUSED,
    EVENT_SCHEDULER_RESUMED,
    EVENT_SCHEDULER_START,
)
from apscheduler.schedulers.base import STATE_RUNNING, BaseScheduler
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest

from storage import campaigns
from storage.models import DELIVERY_STATUSES
from storage.statements import deliveries
from storage.store import Store

log = logging.getLogger(__name__)

CAMPAIGN_OUTCOMES = (*DELIVERY_STATUSES, "erased")
"""A campaign's messages by status, and ``erased``: its recipients who had their data
erased since, their messages with it, as ``!envois`` and ``recueil phases`` count them
(« 1 effacé ») so that the outcomes add up to the recipients."""
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
HEALTH_TIMEOUT = 5.0


@dataclass(frozen=True)
class Snapshot:
    """What the database says at a scrape."""

    deliveries: dict[str, int]
    campaigns: list[campaigns.CampaignProgress] = field(default_factory=list)


def read_snapshot(store: Store) -> Snapshot:
    with store.transaction() as tx:
        tally = sa.select(deliveries.c.status, sa.func.count()).group_by(deliveries.c.status)
        counts = {str(status): int(n) for status, n in tx.connection.execute(tally)}
        return Snapshot(counts, campaigns.progress(tx))


def ping(store: Store) -> None:
    with store.engine.connect() as connection:
        connection.execute(sa.text("SELECT 1"))


class Metrics:
    """The counters the engine updates, and the gauges read at each scrape.

    Its own registry (not prometheus_client's global one): two engines in one test process
    never share a counter.
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.turns = Counter(
            "recueil_turns", "Dialogue turns run, by transport", ["transport"], registry=r
        )
        self.turn_failures = Counter(
            "recueil_turn_failures", "Turns that failed (the agent got an apology)", registry=r
        )
        self.turn_seconds = Histogram(
            "recueil_turn_seconds",
            "From an incoming message to its last reply delivered",
            ["transport"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.delivered = Counter(
            "recueil_deliveries_attempted",
            "Messages handed to a transport by this process, by outcome",
            ["transport", "outcome"],
            registry=r,
        )
        self.flood_ignored = Counter(
            "recueil_flood_ignored", "Messages ignored by flood control", registry=r
        )
        self.deliveries = Gauge(
            "recueil_deliveries", "Rows of the delivery log by status", ["status"], registry=r
        )
        self.pending = Gauge(
            "recueil_pending_deliveries", "Messages queued and not yet delivered", registry=r
        )
        self.campaign_messages = Gauge(
            "recueil_campaign_messages",
            "A campaign's messages by status; erased: recipients erased since, with them",
            ["campaign", "status"],
            registry=r,
        )
        self.campaign_recipients = Gauge(
            "recueil_campaign_recipients", "A campaign's recipients", ["campaign"], registry=r
        )
        self.transport_up = Gauge(
            "recueil_transport_up",
            "1 while a transport runs, 0 while it restarts",
            ["transport"],
            registry=r,
        )
        self.last_job = Gauge(
            "recueil_scheduler_last_run_timestamp_seconds",
            "When a scheduled job last ran in this process (Unix time)",
            registry=r,
        )
        self.scheduler_running = Gauge(
            "recueil_scheduler_running",
            "1 while this process runs the scheduled jobs (the leader), 0 on standby",
            registry=r,
        )
        self.transports: dict[str, bool] = {}
        self.last_job_at: datetime | None = None
        self.runs_jobs: bool | None = None
        """Whether this process runs the scheduled jobs; None before its scheduler starts."""
        # Children by label value, looked up once: labels() takes a lock and builds a key.
        self._turn_children: dict[str, tuple[Any, Any]] = {}
        self._delivery_children: dict[tuple[str, str], Any] = {}

    def turn(self, transport: str, started: float) -> None:
        children = self._turn_children.get(transport)
        if children is None:
            children = (self.turns.labels(transport), self.turn_seconds.labels(transport))
            self._turn_children[transport] = children
        children[0].inc()
        children[1].observe(time.perf_counter() - started)

    def delivery(self, transport: str, outcome: str) -> None:
        child = self._delivery_children.get((transport, outcome))
        if child is None:
            child = self._delivery_children[(transport, outcome)] = self.delivered.labels(
                transport, outcome
            )
        child.inc()

    def transport_state(self, name: str, up: bool) -> None:
        self.transports[name] = up
        self.transport_up.labels(name).set(1 if up else 0)

    def watch(self, scheduler: BaseScheduler) -> None:
        """Follow ``scheduler`` (before it starts): its jobs' runs, and whether this process
        runs them or stands by while another leads."""
        scheduler.add_listener(self.job_ran, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        scheduler.add_listener(
            lambda _event: self.scheduler_state(scheduler.state == STATE_RUNNING),
            EVENT_SCHEDULER_START | EVENT_SCHEDULER_PAUSED | EVENT_SCHEDULER_RESUMED,
        )

    def scheduler_state(self, running: bool) -> None:
        """The scheduler started, paused (another process leads) or resumed (this one does)."""
        self.runs_jobs = running
        self.scheduler_running.set(1 if running else 0)

    def job_ran(self, _event: Any = None) -> None:
        self.last_job_at = datetime.now(UTC)
        self.last_job.set(self.last_job_at.timestamp())

    def update(self, snapshot: Snapshot) -> None:
        for status in DELIVERY_STATUSES:
            self.deliveries.labels(status).set(snapshot.deliveries.get(status, 0))
        self.pending.set(snapshot.deliveries.get("pending", 0))
        for progress in snapshot.campaigns:
            self.campaign_recipients.labels(progress.id).set(progress.recipients)
            for status in CAMPAIGN_OUTCOMES:
                self.campaign_messages.labels(progress.id, status).set(getattr(progress, status))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


RunDb = Callable[..., Any]
_ROLES = {True: "running", False: "standby"}
"""/health's ``scheduler``: this process runs the jobs, or another one does (PostgreSQL)."""


def build_app(metrics: Metrics, store: Store, run_db: RunDb) -> web.Application:
    """The two routes; ``run_db`` runs blocking database work the engine's way."""

    async def health(_request: web.Request) -> web.Response:
        try:
            await asyncio.wait_for(run_db(ping, store), HEALTH_TIMEOUT)
            database = True
        except Exception as exc:
            log.warning("health: database unreachable (%s)", type(exc).__name__)
            database = False
        body = {
            "status": "ok" if database else "database unreachable",
            "database": database,
            "transports": {
                name: "up" if up else "restarting" for name, up in metrics.transports.items()
            },
            "scheduler": None if metrics.runs_jobs is None else _ROLES[metrics.runs_jobs],
            "last_scheduled_job": metrics.last_job_at.isoformat() if metrics.last_job_at else None,
        }
        return web.Response(
            status=200 if database else 503,
            text=json.dumps(body),
            content_type="application/json",
        )

    async def scrape(_request: web.Request) -> web.Response:
        try:
            metrics.update(await asyncio.wait_for(run_db(read_snapshot, store), HEALTH_TIMEOUT))
        except Exception as exc:  # the counters are still worth serving
            log.warning("metrics: database not read (%s)", type(exc).__name__)
        return web.Response(
            body=metrics.exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    app = web.Application()
    app.router.add_get("/health", health)
    app.router.add_get("/metrics", scrape)
    return app


def parse_address(address: str) -> tuple[str, int]:
    """``127.0.0.1:9464`` or ``[::1]:9464`` as (host, port)."""
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)


async def serve(metrics: Metrics, store: Store, run_db: RunDb, address: str) -> web.AppRunner:
    """Start listening; the caller cleans the returned runner up at the end."""
    host, port = parse_address(address)
    runner = web.AppRunner(build_app(metrics, store, run_db), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    log.info("health and metrics on http://%s:%d/health and /metrics", host, port)
    return runner
