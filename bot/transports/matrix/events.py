"""Room events as the core's incoming values (pure: no request, no store)."""

from __future__ import annotations

from nio import (
    Event,
    RoomEncryptedMedia,
    RoomMessageEmote,
    RoomMessageMedia,
    RoomMessageNotice,
    RoomMessageText,
    RoomMessageUnknown,
    StickerEvent,
)

from bot.core.values import ConversationKey, Incoming, IncomingAttachment, IncomingText
from bot.transports.matrix.rendering import strip_reply_fallback

TRANSPORT = "matrix"


def conversation(room_id: str, user_id: str) -> ConversationKey:
    return ConversationKey(TRANSPORT, room_id, user_id)


def is_edit(event: Event) -> bool:
    relation = event.source.get("content", {}).get("m.relates_to")
    return isinstance(relation, dict) and relation.get("rel_type") == "m.replace"


def to_incoming(room_id: str, event: Event) -> Incoming | None:
    """The incoming value for a (decrypted) message event; None for anything else.

    Edits are ignored: the answer they change was already handled, and the core asks
    its questions again on request (/retour). Replies lose their quoted fallback.
    """
    key = conversation(room_id, event.sender)
    if is_edit(event):
        return None
    match event:
        case RoomMessageText() | RoomMessageNotice() | RoomMessageEmote():
            text = strip_reply_fallback(event.body)
            return IncomingText(key=key, event_id=event.event_id, text=text, raw=event)
        case RoomMessageMedia() | RoomEncryptedMedia() | StickerEvent():
            kind = event.source.get("content", {}).get("msgtype") or event.source.get("type")
            return IncomingAttachment(
                key=key, event_id=event.event_id, kind=str(kind or "file"), raw=event
            )
        case RoomMessageUnknown():
            return IncomingAttachment(key=key, event_id=event.event_id, kind=event.msgtype)
    return None
