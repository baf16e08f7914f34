"""Matrix message contents: formatted text with everything user-provided made inert.

Every reply is an ``m.text`` (notices do not notify by default, and pushed announcements
must) with a plain ``body`` and an HTML ``formatted_body``. The texts come from the core,
where agents' own words are embedded (a contribution's title in the summary), so the HTML
is escaped entirely and ``@room`` is broken with a word joiner; ``m.mentions: {}`` tells
clients that implement intentional mentions that nobody is mentioned.
"""

from __future__ import annotations

import html
import re
from typing import Any

HTML_FORMAT = "org.matrix.custom.html"
WORD_JOINER = "\u2060"
_ROOM_MENTION = re.compile(r"@(room)\b", re.IGNORECASE)


def inert(text: str) -> str:
    """``text`` with every ``@room`` unable to notify the room (visually unchanged)."""
    return _ROOM_MENTION.sub(lambda match: f"@{WORD_JOINER}{match.group(1)}", text)


def to_html(text: str) -> str:
    """Escaped HTML for plain ``text``: no tag from the text survives; lines are kept."""
    return "<br>".join(html.escape(line, quote=True) for line in text.split("\n"))


def text_content(text: str) -> dict[str, Any]:
    """The content of an ``m.room.message`` carrying ``text``."""
    safe = inert(text)
    return {
        "msgtype": "m.text",
        "body": safe,
        "format": HTML_FORMAT,
        "formatted_body": to_html(safe),
        "m.mentions": {},
    }


_REPLY_FALLBACK = re.compile(r"\A(?:> [^\n]*\n)+\n", re.MULTILINE)


def strip_reply_fallback(body: str) -> str:
    """A reply's own text, without the quoted lines clients put before it."""
    return _REPLY_FALLBACK.sub("", body, count=1)
