"""Sending a file on Matrix when the server says no: nio's error values become exceptions.

A scripted nio client stands in for the server (a real Synapse would not refuse on
demand): each ``upload`` and ``room_send`` answers the next scripted value.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from nio import RoomSendError, RoomSendResponse, UploadError, UploadResponse

from bot.core.transport import DeliveryRefused
from bot.core.values import ConversationKey, OutFile
from bot.transports.matrix import MatrixOptions, MatrixTransport
from bot.transports.matrix.errors import MatrixSendError
from bot.transports.matrix.files import Uploaded, file_content, png_size
from bot.transports.matrix.pacing import Pacer
from bot.transports.matrix.sender import Sender
from config.settings import Settings

ROOM = "!room:localhost"
KEY = ConversationKey("matrix", ROOM, "@agent:localhost")
CSV = OutFile("export.csv", b"a;b\r\n1;2\r\n", "text/csv")
KEYS = {"v": "v2", "key": {"k": "secret"}, "iv": "iv", "hashes": {"sha256": "h"}}


class ScriptedClient:
    """What the transport uses of ``AsyncClient``, answering from scripts."""

    def __init__(
        self, uploads: list[Any], sends: list[Any] | None = None, encrypted: bool = True
    ) -> None:
        self.rooms = {ROOM: SimpleNamespace(encrypted=encrypted)}
        self.olm = object()
        self.user_id = "@bot:localhost"
        self.uploads = uploads
        self.sends = sends or [RoomSendResponse("$event", ROOM)]
        self.upload_calls: list[dict[str, Any]] = []
        self.sent: list[tuple[str, dict[str, Any], str]] = []

    async def upload(self, data: Any, **options: Any) -> tuple[Any, dict[str, Any] | None]:
        self.upload_calls.append({"data": data.read(), **options})
        answer = self.uploads.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer, (dict(KEYS) if options["encrypt"] else None)

    async def room_send(
        self, room_id: str, event_type: str, content: dict[str, Any], tx_id: str, **_: Any
    ) -> Any:
        self.sent.append((event_type, content, tx_id))
        return self.sends.pop(0)


def transport(client: ScriptedClient, tmp_path: Path) -> MatrixTransport:
    bot = MatrixTransport(Settings(data_dir=tmp_path), options=MatrixOptions(backoff_cap=0.01))
    bot._client = client  # type: ignore[assignment]
    bot._sender = Sender(client, Pacer(0), backoff_cap=0.01)  # type: ignore[arg-type]
    bot._ready.set()
    return bot


async def test_upload_once_then_a_retried_event_keeps_its_transaction_id(tmp_path: Path) -> None:
    client = ScriptedClient(
        uploads=[UploadResponse("mxc://localhost/abc")],
        sends=[RoomSendError("boom", "M_UNKNOWN"), RoomSendResponse("$event", ROOM)],
    )
    await transport(client, tmp_path).send_file(KEY, CSV)
    [upload] = client.upload_calls
    assert upload["data"] == CSV.content and upload["encrypt"] is True
    assert upload["filesize"] == len(CSV.content)
    first, second = client.sent
    assert first[2] == second[2]  # one transaction id: the server stores the event once
    content = second[1]
    assert content["file"] == {**KEYS, "url": "mxc://localhost/abc"} and "url" not in content


async def test_rate_limited_upload_is_waited_out(tmp_path: Path) -> None:
    client = ScriptedClient(
        uploads=[
            UploadError("slow down", "M_LIMIT_EXCEEDED", retry_after_ms=10),
            UploadResponse("mxc://localhost/abc"),
        ],
        encrypted=False,
    )
    await transport(client, tmp_path).send_file(KEY, CSV)
    assert len(client.upload_calls) == 2
    [(_, content, _)] = client.sent
    assert content["url"] == "mxc://localhost/abc" and "file" not in content


@pytest.mark.parametrize(
    ("answer", "raised"),
    [
        (UploadError("too big", "M_TOO_LARGE"), DeliveryRefused),
        (UploadError("no", "M_FORBIDDEN"), DeliveryRefused),
        (UploadError("internal", "M_UNKNOWN"), MatrixSendError),
        (UploadError("unknown error"), MatrixSendError),
        (TimeoutError(), MatrixSendError),
    ],
)
async def test_upload_errors_become_exceptions_and_no_event_is_sent(
    tmp_path: Path, answer: Any, raised: type[Exception]
) -> None:
    client = ScriptedClient(uploads=[answer] * 6)  # a timeout is retried, then raised
    with pytest.raises(raised):
        await transport(client, tmp_path).send_file(KEY, CSV)
    assert client.sent == []


async def test_a_room_the_bot_is_not_in_is_refused_before_uploading(tmp_path: Path) -> None:
    client = ScriptedClient(uploads=[UploadResponse("mxc://localhost/abc")])
    elsewhere = ConversationKey("matrix", "!other:localhost", "@agent:localhost")
    with pytest.raises(DeliveryRefused):
        await transport(client, tmp_path).send_file(elsewhere, CSV)
    assert client.upload_calls == []


def test_only_a_readable_png_becomes_an_image() -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x02\x80\x00\x00\x01\xe0" + bytes(9)
    assert png_size(png) == (640, 480)
    uploaded = Uploaded("mxc://localhost/x")
    image = file_content(OutFile("g.png", png, "image/png"), uploaded)
    assert image["msgtype"] == "m.image" and (image["info"]["w"], image["info"]["h"]) == (640, 480)
    broken = file_content(OutFile("g.png", b"not a png", "image/png"), uploaded)
    assert broken["msgtype"] == "m.file" and "w" not in broken["info"]
    assert png_size(b"GIF89a" + bytes(30)) is None
