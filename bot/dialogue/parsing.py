"""Reading what users type: answers to choices, and text that must be refused.

Commands are read by :mod:`bot.dialogue.commands`.
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum


@functools.lru_cache(maxsize=4096)
def fold(text: str) -> str:
    """Lower case, no accents, single spaces: the form in which answers are compared.

    Cached: every turn folds the labels and aliases of the options and commands again.
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    stripped = re.sub(r"[’'`\-_.,;:!?«»\"()]+", " ", stripped)
    return " ".join(stripped.split())


@dataclass(frozen=True, slots=True)
class Option:
    """A choice as the dialogue offers it: typed answers match the id, label or aliases.

    ``polarity`` marks the yes (True) or no (False) side of a yes/no question: a yes or a
    no as people type it (« ouais », « oui merci », « non pas vraiment ») then chooses it,
    read by :func:`yes_or_no`, the one reading every yes/no question shares.
    """

    id: str
    label: str
    aliases: tuple[str, ...] = field(default=())
    polarity: bool | None = None


YES_ALIASES = (
    "o",
    "ok",
    "oui",
    "ouais",
    "ouaip",
    "yes",
    "yep",
    "y",
    "d accord",
    "daccord",
    "exact",
    "c est ca",
    "valider",
    "bien sur",
    "tout a fait",
    "volontiers",
)
NO_ALIASES = ("n", "no", "non", "nan", "nope", "non merci", "pas du tout", "pas vraiment")
_POLITE = ("merci", "merci beaucoup", "svp", "stp", "s il vous plait", "s il te plait")
_YES_WORDS = (
    *YES_ALIASES,
    *_POLITE,
    "c est bien ca",
    "exactement",
    "absolument",
    "oui oui",
    "c est bon",
    "cest bon",
    "c bon",
    "ca marche",
    "ca me va",
    "tout est bon",
)
_THUMBS = re.compile(r"[\U0001F44D\U0001F44C\u2705\u2714](?:[\U0001F3FB-\U0001F3FF]|\uFE0F)*")
_THUMBS_DOWN = re.compile(r"\U0001F44E(?:[\U0001F3FB-\U0001F3FF]|\uFE0F)*")
"""👍, 👌, ✅, ✔ (with a skin tone or not) say yes; 👎 says no."""
_NO_WORDS = (*NO_ALIASES, *_POLITE, "desole", "ce n est pas ca", "c est pas ca")
_UNSURE = frozenset(
    {
        "je sais pas",
        "je ne sais pas",
        "sais pas",
        "j sais pas",
        "chais pas",
        "nsp",
        "aucune idee",
        "je ne suis pas sur",
        "je ne suis pas sure",
        "pas sur",
        "pas sure",
        "peut etre",
    }
)


def _made_of(words: list[str], phrases: Sequence[str]) -> bool:
    """The words are a sequence of the phrases (each phrase one or more words)."""
    split = [p.split() for p in phrases]
    reachable = [True] + [False] * len(words)
    for start in range(len(words)):
        if reachable[start]:
            for phrase in split:
                if words[start : start + len(phrase)] == phrase:
                    reachable[start + len(phrase)] = True
    return reachable[-1]


def yes_or_no(text: str) -> bool | None:
    """A yes (True) or a no (False) as people type it; None when the text is neither.

    « ouais », « ok merci », « oui c’est ça », « non pas vraiment », « non merci » are
    read, and so are « c’est bon », « ok c bon » and a 👍; a text mixing yes and no words
    (« oui non ») or saying something else is None.
    """
    words = fold(_THUMBS_DOWN.sub(" non ", _THUMBS.sub(" ok ", text))).split()
    if not words or _made_of(words, _POLITE):  # « merci » alone says neither
        return None
    if _made_of(words, _YES_WORDS):
        return True
    if _made_of(words, _NO_WORDS):
        return False
    return None


def unsure(text: str) -> bool:
    """« je ne sais pas », « aucune idée »: the person cannot answer the question."""
    return fold(text).removesuffix(" trop") in _UNSURE


def says_nothing(text: str) -> bool:
    """A yes, a no or « je ne sais pas »: no answer to a question asked in words (a title,
    a fonction, a contact), only to one that offers them as choices."""
    return yes_or_no(text) is not None or unsure(text)


def punctuation_only(text: str) -> bool:
    """« . », « ?? », « … »: punctuation and nothing else, neither an answer nor a command."""
    signs = "".join(text.split())
    return bool(signs) and all(unicodedata.category(ch).startswith("P") for ch in signs)


class Greeting(StrEnum):
    """A message that only greets: « bonsoir » is greeted back in kind."""

    DAY = "day"
    EVENING = "evening"


_DAY_GREETINGS = frozenset(
    {"bonjour", "bjr", "salut", "slt", "hello", "hi", "hey", "coucou", "re", "rebonjour"}
)
_EVENING_GREETINGS = frozenset({"bonsoir", "bsr", "rebonsoir"})
_NOT_A_WORD = re.compile(r"[\W_]+")  # punctuation, emoji; digits stay words
_DRAWN_OUT = re.compile(r"(\w)\1{2,}")  # « coucouuu », « bonjourrr »


def greeting(text: str) -> Greeting | None:
    """What a message made of a greeting alone says (« Bonjour ! », « re 👋 », « Bonsoir »).

    Case, accents, punctuation and emoji do not count; any other word makes the message
    more than a greeting (« bonjour, je cherche… »), and None is returned.
    """
    if len(text) > 60:
        return None
    words = _DRAWN_OUT.sub(r"\1", _NOT_A_WORD.sub(" ", fold(text))).split()
    if not words or len(words) > 3:
        return None
    if not all(w in _DAY_GREETINGS or w in _EVENING_GREETINGS for w in words):
        return None
    return Greeting.EVENING if any(w in _EVENING_GREETINGS for w in words) else Greeting.DAY


def match_choice(text: str, options: Sequence[Option]) -> str | None:
    """The id of the option the text designates, or None when it is unknown or ambiguous.

    Accepted: the number shown, the id, the label or an alias (ignoring case and accents),
    or an unambiguous prefix of a label (three letters at least).
    """
    folded = fold(text)
    if not folded:  # « ? » declared as an alias (« je ne sais pas ») is compared as typed
        typed = text.strip()
        return next((o.id for o in options if typed and typed in o.aliases), None)
    if folded.isdigit():
        index = int(folded)
        return options[index - 1].id if 1 <= index <= len(options) else None
    for option in options:
        if folded in {fold(option.id), fold(option.label), *(fold(a) for a in option.aliases)}:
            return option.id
    compact = folded.replace(" ", "")  # « aujourdhui », « daccord »: an apostrophe left out
    hits = [o.id for o in options if fold(o.label).replace(" ", "") == compact]
    if len(hits) == 1:
        return hits[0]
    if len(folded) >= 3:
        hits = [o.id for o in options if fold(o.label).startswith(folded)]
        if len(hits) == 1:
            return hits[0]
    said = yes_or_no(folded) if any(o.polarity is not None for o in options) else None
    if said is not None:
        return next((o.id for o in options if o.polarity is said), None)
    return None


def read_choices(text: str, options: Sequence[Option], *, multiple: bool) -> list[str] | None:
    """The options a typed answer designates: several when ``multiple``, else one."""
    if multiple:
        return match_choices(text, options)
    found = match_choice(text, options)
    return [found] if found is not None else None


_SEPARATOR = re.compile(r"\s*(?:[,;/+]|\bet\b)\s*", re.IGNORECASE)
"""Between the answers of a question that takes several: « 1, 3 », « habitants et agents »."""


def match_choices(text: str, options: Sequence[Option]) -> list[str] | None:
    """Several options at once ("1, 3", "Les habitants, Les associations", "habitants et
    agents"); None if any part is unknown."""
    chosen, unknown = read_several(text, options)
    return chosen if chosen and not unknown else None


def read_several(text: str, options: Sequence[Option]) -> tuple[list[str], list[str]]:
    """The options a typed answer designates, and the parts of it (as typed) that
    designate none.

    The parts are separated by commas, semicolons, « / », « + » or « et »; a part that
    designates no option is read word by word (« 1 3 », « habitants agents »), so that a
    label of several words (« Les habitants ») is read whole first.
    """
    single = match_choice(text, options)
    if single is not None:
        return [single], []
    chosen: list[str] = []
    unknown: list[str] = []
    for part in (p.strip() for p in _SEPARATOR.split(text)):
        if not fold(part):
            continue
        found = match_choice(part, options)
        ids = [found] if found is not None else [match_choice(w, options) for w in part.split()]
        if not ids or None in ids:
            unknown.append(part)
            continue
        chosen.extend(i for i in ids if i is not None and i not in chosen)
    return chosen, unknown


class TextProblem(StrEnum):
    EMPTY = "empty"
    BINARY = "binary"
    MARKUP_ONLY = "markup_only"
    TOO_LONG = "too_long"
    TOO_SHORT = "too_short"


_TAG = re.compile(r"<[^>]{0,2000}>")
_CODE_BLOCK = re.compile(r"<(script|style)\b[^>]{0,2000}>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd\ufffe\uffff]")


def clean_text(text: str) -> str:
    """Normalise line endings and surrounding space; keep what the user typed otherwise."""
    return unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n")).strip()


def text_problem(text: str, *, min_length: int = 1, max_length: int) -> TextProblem | None:
    """Why a free-text answer must be refused, if it must."""
    if not text.strip():
        return TextProblem.EMPTY
    if _CONTROL.search(text):
        return TextProblem.BINARY
    visible = html.unescape(_TAG.sub("", _CODE_BLOCK.sub("", text))).strip()
    if not any(ch.isalnum() for ch in visible):
        return TextProblem.MARKUP_ONLY if _TAG.search(text) else TextProblem.EMPTY
    if len(text) > max_length:
        return TextProblem.TOO_LONG
    if len(visible) < min_length:
        return TextProblem.TOO_SHORT
    return None
