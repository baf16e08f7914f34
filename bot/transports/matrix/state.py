"""What the bot must remember between starts besides nio's store: sync token and rooms.

Kept in ``<data_dir>/matrix/state.json``, rewritten atomically. The sync token is the
one of the last sync batch whose events were all handled (see :mod:`.dispatch`), so a
restart fetches again what was in flight, and the engine drops what it already handled.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class RoomInfo:
    """A room the bot joined: direct or group, with whom, and whether it was greeted."""

    direct: bool
    peer: str
    greeted: bool = False


@dataclass
class BotState:
    since: str | None = None
    rooms: dict[str, RoomInfo] = field(default_factory=dict)


class StateFile:
    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> BotState:
        if not self.path.exists():
            return BotState()
        raw: dict[str, Any] = json.loads(self.path.read_text())
        rooms = {room_id: RoomInfo(**info) for room_id, info in raw.get("rooms", {}).items()}
        return BotState(since=raw.get("since"), rooms=rooms)

    def save(self, state: BotState) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        with temporary.open("w") as handle:
            json.dump(asdict(state), handle)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(self.path)
