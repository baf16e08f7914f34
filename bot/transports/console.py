"""The terminal chat: interactive, or scriptable with JSON lines (``--jsonl``).

In JSON-lines mode each input line is ``{"text": "..."}`` (or ``{"choice": "id"}``); each
outgoing value is one JSON line, and ``{"type": "ready"}`` follows the replies to each input
(and the greeting at start), so that a script knows the bot is waiting. In both modes an
empty or blank line is an empty message (``{"text": ""}``): it gets its reply too.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import quote

from bot.core.transport import Capability, IncomingHandler, Transport, render_choices, render_poll
from bot.core.values import (
    ConversationKey,
    IncomingChoice,
    IncomingStart,
    IncomingText,
    OutChoices,
    OutFile,
    Outgoing,
    OutPoll,
    outgoing_to_dict,
)
from config.catalogue import Catalogue
from config.typography import integer

MAX_LINE = 1_000_000  # bytes; a longer line is refused whole, never cut into answers
FILES_FOLDER = "fichiers"
"""Where, in the data folder, the terminal saves the files it is sent: one folder per user."""


def files_dir(data_dir: Path) -> Path:
    return data_dir / FILES_FOLDER


def user_files(files: Path, user: str) -> Path:
    """``user``'s own folder under ``files``: their name, with what a path cannot hold (a
    slash, a leading dot) escaped, so that no name reaches outside or another's folder."""
    name = quote(user, safe="@+-_=,")
    if name.startswith("."):
        name = "%2E" + name[1:]
    return files / (name or "%")  # never a quoted name: « % » is always followed by two digits


def forget_files(files: Path, user: str) -> int:
    """Delete the files saved for ``user`` (their data erased); how many there were."""
    folder = user_files(files, user)
    if not folder.is_dir():
        return 0
    count = sum(1 for path in folder.rglob("*") if path.is_file())
    shutil.rmtree(folder)
    return count


@dataclass(frozen=True)
class OversizedLine:
    """A line longer than :data:`MAX_LINE`, dropped up to its end: only its size is kept."""

    size: int


Line = str | OversizedLine


class _LineSplitter:
    """Cuts bytes into lines; a line over :data:`MAX_LINE` is dropped whole, tail included."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.dropped = 0  # bytes of an oversized line dropped so far; 0 when not dropping

    def feed(self, chunk: bytes) -> None:
        self.buffer += chunk
        if self.dropped and b"\n" not in self.buffer:
            self.dropped += len(self.buffer)
            self.buffer.clear()
        elif not self.dropped and b"\n" not in self.buffer and len(self.buffer) > MAX_LINE:
            self.dropped = len(self.buffer)
            self.buffer.clear()

    def next_line(self, eof: bool) -> Line | None:
        """The next complete line, or None until more input (or at the end of input)."""
        end = self.buffer.find(b"\n")
        if end < 0 and eof and (self.buffer or self.dropped):
            end = len(self.buffer) - 1
        if end < 0 and not (eof and self.dropped):
            return None
        cut = end + 1
        line = bytes(self.buffer[:cut])
        del self.buffer[:cut]
        size, self.dropped = self.dropped + len(line), 0
        if size > MAX_LINE + 1:  # the newline is not part of the line
            return OversizedLine(size)
        return line.decode("utf-8", errors="replace")


class FdLines:
    """Lines read from a file descriptor as it becomes readable, without a blocking thread.

    A thread blocked in ``input()`` cannot be cancelled: Ctrl-C or SIGTERM would wait for
    the next Enter. Waiting on the event loop can be, and the descriptor stays blocking
    (no change to the terminal's mode). A regular file or ``/dev/null`` cannot be watched
    (epoll refuses them with EPERM) but never blocks either: it is read directly.
    """

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.lines = _LineSplitter()
        self.eof = False
        self.watchable = True

    async def _readable(self) -> None:
        if not self.watchable:
            return
        loop = asyncio.get_running_loop()
        ready = loop.create_future()

        def wake() -> None:
            if not ready.done():
                ready.set_result(None)

        try:
            loop.add_reader(self.fd, wake)
        except PermissionError:  # a regular file or /dev/null: reads never wait
            self.watchable = False
            return
        try:
            await ready
        finally:
            loop.remove_reader(self.fd)

    async def readline(self) -> Line | None:
        """The next line (with its newline), or None at the end of input."""
        while (line := self.lines.next_line(self.eof)) is None:
            if self.eof:
                return None
            await self._readable()
            chunk = os.read(self.fd, 65536)
            if chunk:
                self.lines.feed(chunk)
            else:
                self.eof = True
        return line


class StreamLines:
    """The same lines from a text stream without a descriptor (a test's ``StringIO``)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.lines = _LineSplitter()
        self.eof = False

    async def readline(self) -> Line | None:
        while (line := self.lines.next_line(self.eof)) is None:
            if self.eof:
                return None
            text = await asyncio.to_thread(self.stream.readline, 65536)
            if text:
                self.lines.feed(text.encode("utf-8", errors="surrogatepass"))
            else:
                self.eof = True
        return line


class ConsoleTransport(Transport):
    """One user at the terminal; files are saved in the user's folder under ``files_dir``
    (:func:`user_files`) and their path shown."""

    name = "console"
    capabilities = frozenset({Capability.FILES})

    def __init__(
        self,
        user: str,
        *,
        files_dir: Path,
        jsonl: bool = False,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
        catalogue: Catalogue | None = None,
    ) -> None:
        super().__init__(catalogue)
        self.key = ConversationKey("console", user, user)
        self.files_dir = files_dir
        self.jsonl = jsonl
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self._lines: FdLines | StreamLines | None = None

    def reaches(self, key: ConversationKey) -> bool:
        return key == self.key

    def _write(self, data: dict[str, Any]) -> None:
        self.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
        self.stdout.flush()

    def _print(self, text: str) -> None:
        self.stdout.write(f"\n{text}\n")
        self.stdout.flush()

    async def send(
        self, key: ConversationKey, message: Outgoing, *, idempotency: str | None = None
    ) -> None:
        if not self.jsonl or isinstance(message, OutFile):
            await super().send(key, message)
            return
        data = outgoing_to_dict(message)
        data.pop("token", None)
        self._write(data)

    async def send_text(self, key: ConversationKey, text: str) -> None:
        if self.jsonl:
            self._write({"type": "text", "text": text})
        else:
            self._print(text)

    async def send_file(self, key: ConversationKey, message: OutFile) -> None:
        folder = user_files(self.files_dir, key.user)
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        path, handle = _new_file(folder, Path(message.name).name)
        # The user's data (« mes données »): readable by its owner only, whatever the umask.
        os.fchmod(handle, 0o600)
        with os.fdopen(handle, "wb") as out:
            out.write(message.content)
        if self.jsonl:
            self._write(
                {"type": "file", "text": message.caption, "name": message.name, "path": str(path)}
            )
        else:
            self._print(f"{message.caption}\n→ {path}")

    def forget(self, key: ConversationKey) -> int:
        return forget_files(self.files_dir, key.user)

    def render(self, message: OutChoices | OutPoll) -> str:
        if isinstance(message, OutChoices):
            return render_choices(message, self.catalogue)
        return render_poll(message, self.catalogue)

    async def _read_line(self) -> Line | None:
        if not self.jsonl and self.stdin.isatty():
            self.stdout.write("\nvous › ")
            self.stdout.flush()
        if self._lines is None:
            try:
                self._lines = FdLines(self.stdin.fileno())
            except (AttributeError, OSError, ValueError):  # not a file: a test's StringIO
                self._lines = StreamLines(self.stdin)
        return await self._lines.readline()

    def _parse(self, line: str) -> IncomingText | IncomingChoice | None:
        if not line.strip():  # in both modes an empty message, answered as such
            return IncomingText(key=self.key, text="")
        if not self.jsonl:
            return IncomingText(key=self.key, text=line.rstrip("\n"))
        try:
            data = json.loads(line)
        except json.JSONDecodeError:
            data = None
        if isinstance(data, dict) and isinstance(data.get("choice"), str):
            return IncomingChoice(key=self.key, choice_id=data["choice"])
        if isinstance(data, dict) and isinstance(data.get("text"), str):
            return IncomingText(key=self.key, text=data["text"])
        self._write({"type": "error", "text": self.catalogue.t("console.bad_line")})
        return None

    def _ready(self) -> None:
        if self.jsonl:
            self._write({"type": "ready"})

    async def run(self, handle: IncomingHandler) -> None:
        """Greet, then read until the end of input."""
        await handle(IncomingStart(key=self.key))
        self._ready()
        while (line := await self._read_line()) is not None:
            if isinstance(line, OversizedLine):
                self._refuse_oversized()
            elif (incoming := self._parse(line)) is not None:
                await handle(incoming)
            self._ready()

    def _refuse_oversized(self) -> None:
        text = self.catalogue.t("console.line_too_long", limit=integer(MAX_LINE))
        if self.jsonl:
            self._write({"type": "error", "text": text})
        else:
            self._print(text)


def _new_file(folder: Path, name: str) -> tuple[Path, int]:
    """A file created for writing in ``folder``, never one that exists: ``name``, else
    ``name-2``, ``name-3``… (two « mes données » in the same minute, by two terminal users or
    one, would otherwise share a name and the second replace the first)."""
    stem, suffix = Path(name).stem, Path(name).suffix
    for number in itertools.count(1):
        path = folder / (name if number == 1 else f"{stem}-{number}{suffix}")
        try:
            return path, os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
    raise AssertionError("unreachable")
