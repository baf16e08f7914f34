"""French typography for the texts the bot writes, and for what administrators write in its
name (announcements, news, rejection reasons); never applied to what agents typed."""

from __future__ import annotations

import re
from collections.abc import Sequence

NBSP = "\u00a0"  # espace insécable, before « : » and inside guillemets
NNBSP = "\u202f"  # espace fine insécable, before « ; ! ? »

_BEFORE_COLON = re.compile(r"[ \u00a0\u202f]+:(?=\s|$)")
_BEFORE_TALL = re.compile(r"[ \u00a0\u202f]+([;!?])(?=[\s»)]|$)")
_OPEN_QUOTE = re.compile(r"«[ \u00a0\u202f]*")
_CLOSE_QUOTE = re.compile(r"[ \u00a0\u202f]*»")


def decimal(value: float, digits: int = 2) -> str:
    """A number as French writes it: ``0.29`` becomes ``0,29``."""
    return f"{value:.{digits}f}".replace(".", ",")


def listing(items: Sequence[str]) -> str:
    """Items as a sentence lists them: ``B-0003 et B-0012``, ``a, b et c``."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} et {items[-1]}"


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


_FIRST_WORD = re.compile(r"[^\W\d_]+")
_ELISION = ("’", "'")


def in_sentence(label: str) -> str:
    """A label of ours (a choice) as it reads inside a line, after « : » or a comma:
    ``"Les habitants"`` becomes ``"les habitants"``.

    Only a common first word loses its capital: one whose other letters are lower case
    (``"ANCT"``, ``"CCAS"`` keep theirs), « À », or an elided letter (``"L’accueil"``).
    A label with a capital further on is taken for a name (``"Mairie de Lyon"``,
    ``"Île-de-France Mobilités"``) and left whole. A lone name (« Paris ») cannot be told
    from a common word: never apply this to what users typed, nor to collectivités.
    """
    first = _FIRST_WORD.match(label)
    if first is None or not label[0].isupper():
        return label
    word, rest = first.group(), label[first.end() :]
    if any(ch.isupper() for ch in rest):
        return label
    elided = len(word) == 1 and (word == "À" or rest.startswith(_ELISION))
    common = elided or (len(word) > 1 and word[1:].islower())
    return label[0].lower() + label[1:] if common else label
