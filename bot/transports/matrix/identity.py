"""The bot's Matrix identity: log in once, then reuse the device for good.

Each password login creates a new device, with new keys that agents' clients must fetch
again (and old sessions become unreadable). So the first start logs in (or takes the
given access token), and writes the user id, device id and access token to
``<data_dir>/matrix/credentials.json`` next to nio's encryption store; every later start
restores them without any login request.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import aiohttp
from nio import AsyncClient, AsyncClientConfig, LoginResponse, WhoamiResponse

from bot.transports.matrix.errors import MatrixStartupError
from config.catalogue import Catalogue
from config.settings import Settings

log = logging.getLogger(__name__)

CLIENT_CONFIG = AsyncClientConfig(
    encryption_enabled=True,
    # The sync token is saved by the bot once a batch is handled, not by nio on receipt.
    store_sync_tokens=False,
    # nio's defaults (None) sleep and retry forever, hiding M_LIMIT_EXCEEDED and a server
    # that went away: the sender and the sync loop handle both themselves.
    max_limit_exceeded=0,
    max_timeouts=0,
    request_timeout=60,
)


@dataclass(frozen=True, slots=True)
class Credentials:
    homeserver: str
    user_id: str
    device_id: str
    access_token: str


def matrix_dir(data_dir: Path) -> Path:
    return data_dir / "matrix"


def credentials_path(data_dir: Path) -> Path:
    return matrix_dir(data_dir) / "credentials.json"


def load_credentials(path: Path) -> Credentials | None:
    if not path.exists():
        return None
    return Credentials(**json.loads(path.read_text()))


def save_credentials(path: Path, credentials: Credentials) -> None:
    """Write the credentials readable by the bot's user only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(asdict(credentials), handle)
    temporary.replace(path)


def require_encryption(client: AsyncClient, catalogue: Catalogue) -> None:
    """Refuse to go on without Olm: nio would silently send clear text into encrypted rooms."""
    if client.olm is None:
        raise MatrixStartupError(catalogue.t("matrix.startup.no_encryption"))


async def open_client(settings: Settings, catalogue: Catalogue) -> AsyncClient:
    """A logged-in nio client with encryption loaded, logging in only on the first start."""
    homeserver = settings.matrix_homeserver
    if not homeserver:
        raise MatrixStartupError(catalogue.t("matrix.startup.no_homeserver"))
    store_dir = matrix_dir(settings.data_dir) / "store"
    store_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = credentials_path(settings.data_dir)
    saved = load_credentials(path)
    if saved is not None:
        if settings.matrix_user_id and saved.user_id != settings.matrix_user_id:
            raise MatrixStartupError(
                catalogue.t("matrix.startup.other_account", saved=saved.user_id, path=str(path))
            )
        client = AsyncClient(
            homeserver, saved.user_id, device_id=saved.device_id,
            store_path=str(store_dir), config=CLIENT_CONFIG,
        )  # fmt: skip
        client.restore_login(saved.user_id, saved.device_id, saved.access_token)
    else:
        client = await _first_login(settings, catalogue, homeserver, store_dir)
        save_credentials(
            path,
            Credentials(homeserver, client.user_id, client.device_id, client.access_token),
        )
        log.info("logged in as %s, device %s (saved)", client.user_id, client.device_id)
    try:
        require_encryption(client, catalogue)
    except MatrixStartupError:
        await client.close()
        raise
    return client


async def _first_login(
    settings: Settings, catalogue: Catalogue, homeserver: str, store_dir: Path
) -> AsyncClient:
    user_id = settings.matrix_user_id or ""
    client = AsyncClient(homeserver, user_id, store_path=str(store_dir), config=CLIENT_CONFIG)
    try:
        if settings.matrix_access_token is not None:
            client.access_token = settings.matrix_access_token.get_secret_value()
            whoami = await client.whoami()
            if not isinstance(whoami, WhoamiResponse) or not whoami.device_id:
                raise MatrixStartupError(
                    catalogue.t("matrix.startup.token_refused", error=_describe(whoami))
                )
            client.restore_login(whoami.user_id, whoami.device_id, client.access_token)
        elif settings.matrix_password is not None and user_id:
            login = await client.login(
                settings.matrix_password.get_secret_value(),
                device_name=settings.matrix_device_name,
            )
            if not isinstance(login, LoginResponse):
                raise MatrixStartupError(
                    catalogue.t("matrix.startup.login_refused", error=_describe(login))
                )
        else:
            raise MatrixStartupError(catalogue.t("matrix.startup.no_credentials"))
    except MatrixStartupError:
        await client.close()
        raise
    except (OSError, aiohttp.ClientError, TimeoutError) as exc:
        await client.close()
        raise MatrixStartupError(
            catalogue.t("matrix.startup.unreachable", homeserver=homeserver, error=str(exc))
        ) from exc
    return client


def _describe(response: object) -> str:
    code = getattr(response, "status_code", None)
    message = getattr(response, "message", None)
    return " ".join(str(part) for part in (code, message) if part) or repr(response)
