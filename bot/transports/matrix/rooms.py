"""Invitations: who may invite the bot, and whether the room is a direct conversation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

from nio import InviteInfo, InviteMemberEvent

from bot.transports.matrix.tchap import split_user_id


def server_of(user_id: str) -> str:
    parts = split_user_id(user_id)
    return parts[1].lower() if parts else ""


def server_allowed(user_id: str, patterns: Sequence[str]) -> bool:
    """Whether ``user_id``'s homeserver matches one of the glob ``patterns``.

    ``agent.*.tchap.gouv.fr`` matches ``agent.collectivites.tchap.gouv.fr``; matching is
    case-insensitive and covers the whole server name (with its port, if any).
    """
    server = server_of(user_id)
    return bool(server) and any(fnmatchcase(server, pattern.lower()) for pattern in patterns)


@dataclass(frozen=True, slots=True)
class Invitation:
    room_id: str
    inviter: str
    direct: bool


def read_invitation(room_id: str, info: InviteInfo, me: str) -> Invitation | None:
    """Who invited the bot and whether they marked the room direct (``is_direct``).

    The invite's stripped state holds the bot's own ``m.room.member`` event: its sender
    is the inviter, and its content carries ``is_direct`` when a client opens a direct
    chat (Element and Tchap do; they also record the room in their ``m.direct``).
    """
    for event in info.invite_state:
        if (
            isinstance(event, InviteMemberEvent)
            and event.state_key == me
            and event.membership == "invite"
        ):
            return Invitation(room_id, event.sender, event.content.get("is_direct") is True)
    return None
