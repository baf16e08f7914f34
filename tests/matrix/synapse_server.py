"""A real Synapse homeserver run as a subprocess, for integration tests.

The server listens on 127.0.0.1 only, keeps its SQLite database, signing key and
logs in one temporary directory, has federation, presence and key servers off,
and keeps Synapse's default rate limits unless the caller overrides them.

The class holds no asyncio object between calls (the process is a plain
``subprocess.Popen``, every HTTP call opens its own ``aiohttp`` session), so a
session-scoped server can be used from tests running in any event loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import aiohttp

SERVER_NAME = "localhost"
ADMIN_LOCALPART = "harness-admin"


class SynapseError(RuntimeError):
    """Synapse failed to start, died, or answered an admin call with an error."""


@dataclass(frozen=True)
class RegisteredUser:
    """A user created through the shared-secret registration API.

    The access token and device come from the registration itself, so tests
    need no ``/login`` call (Synapse allows only 5 logins per client address
    before ``rc_login.address`` starts refusing them, at default limits).
    """

    user_id: str
    password: str
    access_token: str
    device_id: str


def _free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (the usual small race applies)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tail(path: Path, lines: int = 40) -> str:
    if not path.exists():
        return f"<{path.name} missing>"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


class SynapseServer:
    """A Synapse homeserver in a temporary directory.

    Use as ``async with SynapseServer() as server:``; or call ``start()`` and
    ``stop()``. ``restart()`` keeps the directory, database and port.

    Args:
        config_overrides: top-level homeserver.yaml keys replacing the
            defaults written here (e.g. ``{"rc_message": {...}}``). Without
            them, every rate limit is Synapse's default.
        startup_timeout: seconds to wait for ``/_matrix/client/versions``.
        workdir: directory to use instead of a fresh temporary one (kept
            on stop).
    """

    def __init__(
        self,
        config_overrides: Mapping[str, Any] | None = None,
        startup_timeout: float = 60.0,
        workdir: Path | None = None,
    ) -> None:
        self._overrides = dict(config_overrides or {})
        self._startup_timeout = startup_timeout
        self._owns_workdir = workdir is None
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="recueil-synapse-"))
        self.port = _free_port()
        self._shared_secret = secrets.token_urlsafe(32)
        self._process: subprocess.Popen[bytes] | None = None
        self._admin: RegisteredUser | None = None
        self.startup_seconds: float | None = None
        """Wall time of the last start, from spawn to the first answer."""

    # -- paths and configuration ----------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def server_name(self) -> str:
        return SERVER_NAME

    @property
    def config_path(self) -> Path:
        return self.workdir / "homeserver.yaml"

    @property
    def log_path(self) -> Path:
        return self.workdir / "homeserver.log"

    @property
    def output_path(self) -> Path:
        """Synapse's own stdout and stderr (errors before logging is set up)."""
        return self.workdir / "synapse.out"

    def user_id(self, localpart: str) -> str:
        return f"@{localpart}:{SERVER_NAME}"

    def _config(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            "server_name": SERVER_NAME,
            "public_baseurl": f"{self.url}/",
            "pid_file": str(self.workdir / "homeserver.pid"),
            "listeners": [
                {
                    "port": self.port,
                    "bind_addresses": ["127.0.0.1"],
                    "type": "http",
                    "tls": False,
                    "x_forwarded": False,
                    # No "federation" resource: nothing can federate in.
                    "resources": [{"names": ["client"], "compress": False}],
                }
            ],
            "database": {
                "name": "sqlite3",
                "args": {"database": str(self.workdir / "homeserver.db")},
            },
            "log_config": str(self.workdir / "log_config.yaml"),
            "media_store_path": str(self.workdir / "media_store"),
            "signing_key_path": str(self.workdir / "signing.key"),
            "registration_shared_secret": self._shared_secret,
            "macaroon_secret_key": secrets.token_urlsafe(32),
            "form_secret": secrets.token_urlsafe(32),
            "enable_registration": False,
            "report_stats": False,
            "enable_metrics": False,
            "presence": {"enabled": False},
            "url_preview_enabled": False,
            # An empty whitelist refuses every outbound federation request;
            # no key server is ever asked for keys.
            "federation_domain_whitelist": [],
            "trusted_key_servers": [],
            "suppress_key_server_warning": True,
        }
        config.update(self._overrides)
        return config

    def _log_config(self) -> dict[str, Any]:
        return {
            "version": 1,
            "formatters": {"precise": {"format": "%(asctime)s %(name)s %(levelname)s %(message)s"}},
            "handlers": {
                "file": {
                    "class": "logging.FileHandler",
                    "formatter": "precise",
                    "filename": str(self.log_path),
                    "level": "WARNING",
                }
            },
            "root": {"level": "WARNING", "handlers": ["file"]},
            "disable_existing_loggers": False,
        }

    def _write_files(self) -> None:
        """Write config, log config and signing key, once per directory.

        JSON is valid YAML, so no YAML library is needed here.
        """
        if self.config_path.exists():
            return
        from signedjson.key import generate_signing_key, write_signing_keys

        with (self.workdir / "signing.key").open("w") as key_file:
            write_signing_keys(key_file, [generate_signing_key("a_test")])
        (self.workdir / "log_config.yaml").write_text(json.dumps(self._log_config(), indent=2))
        self.config_path.write_text(json.dumps(self._config(), indent=2))

    # -- lifecycle ------------------------------------------------------

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()
        self.cleanup()

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    async def start(self) -> None:
        """Spawn Synapse and wait until the client API answers."""
        if self.running:
            raise SynapseError("Synapse is already running")
        self._write_files()
        started = time.monotonic()
        self._process = self._spawn()
        try:
            await self._wait_until_ready()
        except BaseException:
            await self.stop()
            raise
        self.startup_seconds = time.monotonic() - started

    def _spawn(self) -> subprocess.Popen[bytes]:
        """Start Synapse with this venv's Python.

        A plain ``Popen`` rather than ``asyncio.create_subprocess_exec``: the
        process must not belong to one event loop, since the session fixture
        starts it in one loop and a test may restart it from another.
        """
        with self.output_path.open("ab") as output:
            return subprocess.Popen(
                [sys.executable, "-m", "synapse.app.homeserver", "-c", str(self.config_path)],
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
            )

    async def _wait_until_ready(self) -> None:
        """Poll ``/_matrix/client/versions``; a refused connection is retried.

        Each refused attempt returns at once, so the loop yields with
        ``asyncio.sleep(0.05)`` to avoid spinning; this waits for a process,
        not for a race in the code under test.
        """
        assert self._process is not None
        versions = f"{self.url}/_matrix/client/versions"
        timeout = aiohttp.ClientTimeout(total=5)
        deadline = time.monotonic() + self._startup_timeout
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while True:
                if self._process.poll() is not None:
                    raise SynapseError(
                        f"Synapse exited with code {self._process.returncode}\n"
                        f"--- {self.output_path}\n{_tail(self.output_path)}\n"
                        f"--- {self.log_path}\n{_tail(self.log_path)}"
                    )
                if time.monotonic() > deadline:
                    raise SynapseError(
                        f"Synapse did not answer within {self._startup_timeout}s\n"
                        f"--- {self.log_path}\n{_tail(self.log_path)}"
                    )
                try:
                    async with session.get(versions) as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)

    async def stop(self, grace: float = 15.0) -> None:
        """Terminate Synapse (SIGTERM), then kill it if it does not exit in time."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            await asyncio.to_thread(process.wait, grace)
        except subprocess.TimeoutExpired:
            process.kill()
            await asyncio.to_thread(process.wait, grace)

    async def restart(self) -> None:
        """Stop and start again on the same port, database and keys."""
        await self.stop()
        await self.start()

    def cleanup(self) -> None:
        """Remove the temporary directory (only if this object created it)."""
        if self._owns_workdir and not self.running:
            shutil.rmtree(self.workdir, ignore_errors=True)

    # -- admin API ------------------------------------------------------

    async def _request(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        access_token: str | None = None,
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {access_token}"} if access_token else {}
        timeout = aiohttp.ClientTimeout(total=30)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.request(method, self.url + path, json=body, headers=headers) as response,
        ):
            payload: dict[str, Any] = await response.json(content_type=None)
            if response.status != 200:
                raise SynapseError(f"{method} {path} -> {response.status}: {payload}")
            return payload

    async def register(
        self,
        localpart: str,
        password: str | None = None,
        *,
        admin: bool = False,
        exempt_from_rate_limits: bool = False,
        device_id: str | None = None,
        displayname: str | None = None,
    ) -> RegisteredUser:
        """Create a user with the shared-secret API (nonce + HMAC-SHA1).

        Args:
            localpart: the part of the user id before ``:localhost``.
            password: defaults to a random one (kept on the result).
            admin: make the user a server admin.
            exempt_from_rate_limits: see ``exempt_from_rate_limits()``; e.g.
                for the bot account.
            device_id: device to create with the access token.
            displayname: initial display name.
        """
        password = password or secrets.token_urlsafe(16)
        nonce = (await self._request("GET", "/_synapse/admin/v1/register"))["nonce"]
        mac = hmac.new(self._shared_secret.encode(), digestmod=hashlib.sha1)
        for part in (nonce, localpart, password):
            mac.update(part.encode())
            mac.update(b"\x00")
        mac.update(b"admin" if admin else b"notadmin")
        body: dict[str, Any] = {
            "nonce": nonce,
            "username": localpart,
            "password": password,
            "admin": admin,
            "mac": mac.hexdigest(),
        }
        if device_id:
            body["device_id"] = device_id
        if displayname:
            body["displayname"] = displayname
        result = await self._request("POST", "/_synapse/admin/v1/register", body)
        user = RegisteredUser(
            user_id=result["user_id"],
            password=password,
            access_token=result["access_token"],
            device_id=result["device_id"],
        )
        if exempt_from_rate_limits:
            await self.exempt_from_rate_limits(user.user_id)
        return user

    async def admin_token(self) -> str:
        """An access token of a server admin, created on first use."""
        if self._admin is None:
            self._admin = await self.register(ADMIN_LOCALPART, admin=True)
        return self._admin.access_token

    async def exempt_from_rate_limits(self, user_id: str) -> None:
        """Exempt a user from the rate limits of the requests they make.

        An ``override_ratelimit`` of 0/0 lifts ``rc_message`` and, in Synapse
        1.163, every limiter keyed on the requester (room creation, joins,
        invites sent). It does not lift ``rc_login`` (no requester yet) nor
        ``rc_invites.per_user``, which counts invites *received* and is
        checked against the inviter.
        """
        await self._request(
            "POST",
            f"/_synapse/admin/v1/users/{quote(user_id)}/override_ratelimit",
            {"messages_per_second": 0, "burst_count": 0},
            access_token=await self.admin_token(),
        )

    async def raw_event(self, access_token: str, room_id: str, event_id: str) -> dict[str, Any]:
        """An event exactly as the server stores and serves it (no decryption)."""
        return await self._request(
            "GET",
            f"/_matrix/client/v3/rooms/{quote(room_id)}/event/{quote(event_id)}",
            access_token=access_token,
        )
