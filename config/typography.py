"""French typography for the texts the bot writes (never applied to what users typed)."""

from __future__ import annotations

import re

NBSP = "\u00a0"  # espace insécable, before « : » and inside guillemets
NNBSP = "\u202f"  # espace fine insécable, before « ; ! ? »

_BEFORE_COLON = re.compile(r"[ \u00a0\u202f]+:(?=\s|$)")
_BEFORE_TALL = re.compile(r"[ \u00a0\u202f]+([;!?])(?=[\s»)]|$)")
_OPEN_QUOTE = re.compile(r"«[ \u00a0\u202f]*")
_CLOSE_QUOTE = re.compile(r"[ \u00a0\u202f]*»")


def decimal(value: float, digits: int = 2) -> str:
    """A number as French writes it: ``0.29`` becomes ``0,29``."""
    return f"{value:.{digits}f}".replace(".", ",")


def integer(value: float) -> str:
    """``1234`` as French writes it: ``1 234`` (espace fine insécable)."""
    return f"{round(value):,}".replace(",", NNBSP)


def french(text: str) -> str:
    """Apply French spacing rules to a text written with ordinary spaces.

    ``"Votre choix : oui ?"`` becomes ``"Votre choix\u00a0: oui\u202f?"``; « guillemets »
    get no-break spaces inside. Only spaces already present before punctuation are
    replaced, so URLs and ``transport:id`` values are left intact.
    """
    text = _BEFORE_COLON.sub(NBSP + ":", text)
    text = _BEFORE_TALL.sub(NNBSP + r"\1", text)
    text = _OPEN_QUOTE.sub("«" + NBSP, text)
    return _CLOSE_QUOTE.sub(NBSP + "»", text)
