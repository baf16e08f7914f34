"""Files on Matrix: upload to the media repository, then an ``m.file`` or ``m.image`` event.

In an encrypted room the bytes are encrypted before they leave the bot (AES-CTR, nio's
``upload(encrypt=True)``): the server stores ciphertext, and the event carries the
``file`` key (url, key, iv, hashes, v), which is itself end-to-end encrypted with the
event, and no plain ``url``. In a room without encryption the upload is plain and the
event carries ``url``.

An upload is not idempotent (each one makes a new ``mxc://``), so it is done once per
delivery; the event that points at it is then sent by :class:`.sender.Sender` under one
transaction id, whatever the retries.
"""

from __future__ import annotations

import io
import logging
import struct
from dataclasses import dataclass
from typing import Any

from nio import AsyncClient, UploadError, UploadResponse

from bot.core.transport import DeliveryRefused
from bot.core.values import OutFile
from bot.transports.matrix.errors import MatrixSendError
from bot.transports.matrix.sender import TRANSIENT_ERRORS, Sender

log = logging.getLogger(__name__)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
UPLOAD_REFUSED = frozenset({"M_FORBIDDEN", "M_TOO_LARGE", "M_UNKNOWN_TOKEN", "M_NOT_JSON"})
"""Upload errors that a later attempt would get again: the delivery is refused for good."""


@dataclass(frozen=True, slots=True)
class Uploaded:
    """Where the bytes are: a plain ``mxc://`` url, or the encrypted file's JSON."""

    url: str
    encrypted_file: dict[str, Any] | None = None


def png_size(content: bytes) -> tuple[int, int] | None:
    """(width, height) read from a PNG's header chunk; ``None`` for anything else."""
    if len(content) < 24 or not content.startswith(PNG_SIGNATURE) or content[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", content[16:24])
    return width, height


def file_content(message: OutFile, uploaded: Uploaded) -> dict[str, Any]:
    """The ``m.room.message`` content pointing at an uploaded file.

    A PNG is an ``m.image`` with its size in pixels, so that clients show it inline;
    anything else is an ``m.file`` that clients offer to download under its name.
    """
    info: dict[str, Any] = {"mimetype": message.mime, "size": len(message.content)}
    size = png_size(message.content) if message.mime == "image/png" else None
    if size is not None:
        info["w"], info["h"] = size
    content: dict[str, Any] = {
        "msgtype": "m.image" if size is not None else "m.file",
        "body": message.name,
        "filename": message.name,
        "info": info,
        "m.mentions": {},
    }
    if uploaded.encrypted_file is not None:
        content["file"] = uploaded.encrypted_file
    else:
        content["url"] = uploaded.url
    return content


async def upload(client: AsyncClient, sender: Sender, room_id: str, message: OutFile) -> Uploaded:
    """Upload ``message``'s bytes, encrypted if the room is; nio's error values raised.

    Raises:
        DeliveryRefused: the room is unknown, or the server refuses the file for good
            (too large, forbidden).
        MatrixSendError: the server or the connection failed; the engine retries later.
    """
    room = client.rooms.get(room_id)
    if room is None:
        raise DeliveryRefused(f"the bot is not in room {room_id}")
    encrypt = room.encrypted
    if encrypt and client.olm is None:
        raise MatrixSendError("encryption is not loaded: refusing to upload in clear")

    async def attempt() -> _Attempt:
        response, keys = await client.upload(
            io.BytesIO(message.content),  # fresh for each attempt: nothing to rewind
            content_type=message.mime,
            filename=message.name,
            encrypt=encrypt,
            filesize=len(message.content),
        )
        return _Attempt(response, keys)

    try:
        answer = await sender.call(attempt, room_id)  # paced; rate limits waited out
    except TRANSIENT_ERRORS as exc:
        raise MatrixSendError(f"upload to {room_id} failed: {exc!r}") from exc
    response, keys = answer.response, answer.keys
    if isinstance(response, UploadError):
        error = f"upload to {room_id}: {response.status_code} {response.message}"
        if response.status_code in UPLOAD_REFUSED:
            raise DeliveryRefused(error)
        raise MatrixSendError(error)
    if not isinstance(response, UploadResponse):
        raise MatrixSendError(f"upload to {room_id}: unexpected answer {response!r}")
    if not encrypt:
        return Uploaded(response.content_uri)
    if not keys or not {"key", "iv", "hashes", "v"} <= keys.keys():
        raise MatrixSendError(f"upload to {room_id}: nio returned no decryption keys")
    return Uploaded(response.content_uri, {**keys, "url": response.content_uri})


@dataclass(frozen=True, slots=True)
class _Attempt:
    """nio's (response, keys) pair, showing :meth:`Sender.call` the status it reads."""

    response: UploadResponse | UploadError
    keys: dict[str, Any] | None

    @property
    def status_code(self) -> str | None:
        return getattr(self.response, "status_code", None)

    @property
    def retry_after_ms(self) -> int | None:
        return getattr(self.response, "retry_after_ms", None)
