"""A title proposed from a text too long for one (a whole need pasted as the title).

The title becomes public once accepted (voters see it through the proposals): the letter's
greeting and preamble (« Bonjour, suite à la réunion du 12/10, nous souhaiterions signaler
que… ») are left out, and a cut falls between words, after a word that can end a phrase,
and is marked with « … ».
"""

from __future__ import annotations

import re

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s|\n")
_GREETING = re.compile(
    r"""^(?:
        (?:bonjour|bonsoir|salut|hello|coucou)(?:\s+(?:à|a)\s+(?:tous|toutes|vous))?[\s,.!:;]+
      | (?:madame|monsieur|mesdames|messieurs)(?:\s+[\w-]+){0,3}\s*[,\n]\s*
      | ch[eè]re?s?\s+coll[eè]gues?[\s,.!:;]+
    )""",
    re.IGNORECASE | re.VERBOSE,
)
_CONTEXT = re.compile(
    r"""^(?:(?:pour\s+faire|faisant)\s+suite|suite|(?:à|a)\s+la\s+suite
        |comme\s+(?:convenu|[eé]voqu[eé]|discut[eé]|indiqu[eé]|annonc[eé]))\b
        (?:[^,.:;!?\n]|\.(?=\d)){0,120}[,.:;\n]\s*""",
    re.IGNORECASE | re.VERBOSE,
)
_REPORT = r"""(?:signaler|faire\s+part|informer|exposer|pr[eé]senter|partager|faire\s+remonter
    |remonter|d[eé]crire|indiquer|dire|alerter|[eé]crire)"""
_ANNOUNCE = re.compile(
    rf"""^(?:nous|je|j[’'])\s*(?:
        (?:vous\s+|me\s+|nous\s+)?(?:souhait\w*|voudr\w*|voulons|veux|aimer\w*|permet\w*
            |tenons|tiens)\s+(?:(?:à|a|de|d[’'])\s*)?(?:vous\s+)?{_REPORT}\b
      | vous\s+[eé]cri\w*
    )\s*(?:que\s+|qu[’']|de\s+|d[’']|car\s+|pour\s+|parce\s+que\s+|au\s+sujet\s+d[eu’']\s*)?""",
    re.IGNORECASE | re.VERBOSE,
)
_SUBJECT = re.compile(
    r"^(?:un|notre|mon|le|ce)\s+besoin\s*(?:[:,–—-]|\s+suivant\s*:?)\s*", re.IGNORECASE
)
_CLAUSE_END = re.compile(r"\s*(?:[,:;(]|\s[–—-]\s)")
_WORD_END = re.compile(r"\s+")
_DANGLING_WORDS = (
    "a à au aux avec c ce ces cette d dans de des du en et l la le les leur leurs ma mais mes "
    "n ne nos notre ou où par pour qu que qui s sa sans se ses son sur ta tes ton un une vos "
    "votre y"
)
_DANGLING = frozenset(_DANGLING_WORDS.split())
"""Words a title does not end on: « …cahier papier c… » reads as cut in the middle."""
_MIN_LEFT = 15
"""What must be left once the preamble is left out; else the text is taken as it is."""


def proposed_title(text: str, limit: int) -> str:
    """A title of at most ``limit`` characters taken from ``text``: its first sentence once
    the greeting and the preamble are left out, or the beginning of that sentence, up to
    the end of a phrase if one ends in reach, else between two words, with « … »."""
    body = _without_preamble(text.strip())
    first = _SENTENCE_END.split(body, maxsplit=1)[0].strip().rstrip(" .;:,")
    if 3 <= len(first) <= limit:
        return first
    if len(first) < 3:
        first = body
    room = limit - 1  # the « … »
    clauses = [m.start() for m in _CLAUSE_END.finditer(first) if m.start() <= room]
    if clauses and clauses[-1] >= limit // 3:
        return first[: clauses[-1]] + "…"
    return _between_words(first, room) + "…"


def _between_words(text: str, room: int) -> str:
    """The beginning of ``text``, at most ``room`` characters, ending with a whole word that
    can end a phrase (not « de », « la », « c »)."""
    ends = [m.start() for m in _WORD_END.finditer(text[: room + 1])]
    for end in reversed(ends):
        last = text[:end].split()[-1].strip(".,;:!?«»()").casefold()
        if last not in _DANGLING:
            return text[:end].rstrip(" .;:,")
    return text[:room]


def _without_preamble(text: str) -> str:
    """``text`` without its greeting (« Bonjour à tous, », « Madame, Monsieur, »), its
    context (« suite à la réunion du 12/10, ») and its announcement (« nous souhaiterions
    signaler que », « un besoin : »), when enough is left; capitalised when something was
    left out."""
    rest = text
    for pattern in (_GREETING, _GREETING, _CONTEXT, _ANNOUNCE, _SUBJECT):
        shorter = pattern.sub("", rest, count=1).lstrip()
        if len(shorter) >= _MIN_LEFT:
            rest = shorter
    if len(rest) == len(text):
        return text
    return rest[:1].upper() + rest[1:]
