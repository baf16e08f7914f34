"""The collectivités referential: communes, EPCI, départements and régions, as agents type them.

Agents name their collectivité in chat: "Sainte-Colombe", "mairie d'Ambérieu", "69190", "CC du
Pays de Gex", "ste colombe (rhone)". :class:`Referential` turns such text into official entries,
best first. The data is Etalab's ``@etalab/decoupage-administratif`` converted by
``scripts/fetch_referential.py`` into ``storage/data/collectivites.json.gz``; see
docs/referential.md for the search rules and measured figures.

Load cost is kept low by building :class:`CollectiviteRef` objects only when a lookup returns
them: loading parses the file and builds a few dictionaries of normalized names and codes.
"""

from __future__ import annotations

import bisect
import gzip
import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any, Literal, get_args

from rapidfuzz import process
from rapidfuzz.distance import OSA

from storage.email_domains import collectivite_from_emails

CollectiviteKind = Literal["commune", "epci", "departement", "region"]
KINDS: tuple[CollectiviteKind, ...] = get_args(CollectiviteKind)

DATA_FILE = Path(__file__).resolve().parent / "data" / "collectivites.json.gz"
SUPPORTED_FORMAT = 2

MAX_QUERY_LENGTH = 200
"""Longer input is not a name: the longest official name has under 70 characters."""
MAX_PREFIX_KEYS = 50
"""A prefix shared by more names than this ("saint") says too little to suggest any of them."""
MIN_PREFIX_LENGTH = 4
FUZZY_CANDIDATES = 50

_KIND_RANK = {kind: rank for rank, kind in enumerate(KINDS)}
_TABLES: tuple[tuple[CollectiviteKind, str], ...] = (
    ("commune", "communes"),
    ("epci", "epci"),
    ("departement", "departements"),
    ("region", "regions"),
)


@dataclass(frozen=True, slots=True)
class CollectiviteRef:
    """One collectivité as the referential knows it.

    Attributes:
        kind: commune, EPCI, département or région.
        code: INSEE code for a commune, département or région; SIREN for an EPCI.
        name: official name, e.g. "Sainte-Colombe".
        siren: SIREN when the source gives it (communes and EPCI).
        departement: département code ("69", "2A", "971"); for an EPCI, the département of its
            most populous member (the source has no siège); for a département, its own code.
        region: région code.
        postal_codes: postal codes of a commune, sorted; empty for the other kinds.
        population: population municipale (sum over the communes for a département or région).
        departement_name: name of ``departement``, kept on the value so that :attr:`label`
            needs no referential.
    """

    kind: CollectiviteKind
    code: str
    name: str
    siren: str | None
    departement: str | None
    region: str | None
    postal_codes: tuple[str, ...]
    population: int | None
    departement_name: str | None = None

    @property
    def label(self) -> str:
        """French display label, telling homonyms apart by their département."""
        if self.kind == "departement":
            return f"{self.name} (département)"
        if self.kind == "region":
            return f"{self.name} (région)"
        if self.kind == "epci":
            where = f", {self.departement_name}" if self.departement_name else ""
            return f"{self.name} (EPCI{where})"
        return f"{self.name} ({self.departement_name})" if self.departement_name else self.name


# --- Normalization ---------------------------------------------------------------------------

# After NFKD: anything but ASCII letters, digits, line breaks and combining accents is a space.
_NON_ALNUM = re.compile(r"[^a-z0-9\n\u0300-\u036f]+")
_SPACES = re.compile(r" {2,}")
_ALIASES = {
    "st": "saint",
    "ste": "sainte",
    "agglo": "agglomeration",
    "communaute de communes": "cc",
    "communaute de commune": "cc",
    "cte de communes": "cc",
    "cte de com": "cc",
    "com de com": "cc",
    "comcom": "cc",
    "cdc": "cc",
    "communaute d agglomeration": "ca",
    "communaute d agglo": "ca",
    "communaute urbaine": "cu",
    "c c": "cc",
    "c a": "ca",
    "c u": "cu",
}
_ALIAS_PATTERN = re.compile(
    r"\b(?:" + "|".join(sorted(map(re.escape, _ALIASES), key=len, reverse=True)) + r")\b"
)
_MINOR_WORDS = re.compile(r"\b(?:le|la|les|l|de|du|des|d|et|a|au|aux)\b ?")
_EPCI_NATURES = frozenset({"cc", "ca", "cu"})

# Words agents put before the name, and the kind of collectivité they imply.
_ROLE_PREFIX = re.compile(
    r"^(?:(?P<commune>mairie|commune|ville|municipalite|hotel de ville)"
    r"|(?P<departement>departement|conseil departemental|conseil general)"
    r"|(?P<region>region|conseil regional)"
    r"|(?P<epci>epci|intercommunalite|interco))"
    r"(?: (?:de la|de l|de|du|des|d))? (?P<rest>.+)$"
)
# « Paris 15e », « Lyon 3ème », « Marseille 13e arrondissement »: the collectivité is the commune.
_ARRONDISSEMENT = re.compile(
    r"^(?P<city>paris|lyon|marseille) (?:\d{1,2} ?(?:e|er|eme|ieme)?|[ivx]+e)(?: arrondissement)?$"
)
_EPCI_NATURE_PREFIX = re.compile(r"^(?:cc|ca|cu)(?: (?:de la|de l|du|des|de|d))? (?=\S)")
_DEPARTEMENT_CODE = re.compile(r"\d{2,3}|2[ab]")
_CODE = re.compile(r"2[AB](?:\d{3})?")  # Corsica: "2A", "2B004"; other codes are all digits
_CODE_SEPARATORS = re.compile(r"[\s.]")


def normalize(text: str) -> str:
    """Fold a name for comparison: lower case, no accents, words separated by one space.

    Hyphens, apostrophes and punctuation become spaces; "St"/"Ste" become "saint"/"sainte";
    "communauté de communes", "communauté d'agglomération" and "communauté urbaine" become the
    CC/CA/CU used in official EPCI names. ``normalize("Mairie d'Ambérieu")`` is
    ``"mairie d amberieu"``.
    """
    return _normalize_lines(text.replace("\n", " "))


def _normalize_many(names: Sequence[str]) -> list[str]:
    """:func:`normalize` for many names at once: one pass over their text, ten times faster."""
    return _normalize_lines("\n".join(name.replace("\n", " ") for name in names)).split("\n")


def _normalize_lines(text: str) -> str:
    folded = text.casefold().replace("œ", "oe").replace("æ", "ae")
    folded = _NON_ALNUM.sub(" ", unicodedata.normalize("NFKD", folded))
    folded = folded.encode("ascii", "ignore").decode("ascii")
    if "  " in folded:  # a stray accent between two spaces
        folded = _SPACES.sub(" ", folded)
    folded = _trim_lines(folded)
    return _ALIAS_PATTERN.sub(_expand_alias, folded)


def _expand_alias(match: re.Match[str]) -> str:
    return _ALIASES[match.group(0)]


def _trim_lines(text: str) -> str:
    """Remove the space left at either end of each line (never more than one)."""
    return text.replace(" \n", "\n").replace("\n ", "\n").strip(" ")


def without_epci_nature(key: str) -> str:
    """A normalized name without its leading CC/CA/CU: ``"cc du pays de gex"`` is
    ``"pays de gex"``; other names are returned as they are."""
    return _EPCI_NATURE_PREFIX.sub("", key, count=1)


def _loose(key: str) -> str:
    """Drop articles and linking words ("Havre" finds "Le Havre"); keep ``key`` if none is left."""
    return _loose_many([key])[0]


def _loose_many(keys: Sequence[str]) -> list[str]:
    text = _trim_lines(_MINOR_WORDS.sub("", "\n".join(keys)))
    return [loose or key for loose, key in zip(text.split("\n"), keys, strict=True)]


def _allowed_typos(length: int) -> int:
    """Edits tolerated in a name of ``length`` characters: one from 4, two from 8."""
    if length < 4:
        return 0
    return 1 if length < 8 else 2


def _typos_between(typed: str, official: str) -> int:
    """Edits tolerated between two names, judged on the shorter so that a short word does not
    reach a longer name ("bonjour" is not "Boncourt")."""
    return _allowed_typos(min(len(typed), len(official)))


# --- The referential -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Interpretation:
    """One reading of a query: the normalized name and what else the query implied."""

    key: str
    kinds: frozenset[CollectiviteKind] | None
    departement: str | None = None
    postal_code: str | None = None


class Referential:
    """All current communes, EPCI, départements and régions, indexed for lookup.

    Entries are numbered in one sequence (communes, then EPCI, départements, régions); indexes map
    codes and normalized names to those numbers, and references are built on demand.
    """

    def __init__(self, document: dict[str, Any]) -> None:
        if document.get("format") != SUPPORTED_FORMAT:
            raise ValueError(f"unsupported referential format: {document.get('format')!r}")
        self.source: dict[str, str] = document["source"]
        tables = [(kind, document[table]) for kind, table in _TABLES]
        # One column per field across all kinds; entry numbers index them.
        self._kinds: list[CollectiviteKind] = []
        self._codes: list[str] = []
        self._names: list[str] = []
        self._population: list[int | None] = []
        self._departements: list[str | None] = []
        self._regions: list[str | None] = []
        self._first_entry: dict[CollectiviteKind, int] = {}
        for kind, columns in tables:
            size = len(columns["code"])
            self._first_entry[kind] = len(self._codes)
            self._kinds.extend([kind] * size)
            self._codes.extend(columns["code"])
            self._names.extend(columns["name"])
            self._population.extend(columns["population"])
            if kind == "departement":
                self._departements.extend(columns["code"])
            else:
                self._departements.extend(columns.get("departement", [None] * size))
            self._regions.extend(columns["code"] if kind == "region" else columns["region"])
        communes = document["communes"]
        self._commune_sirens: list[str | None] = communes["siren"]
        self._postal_codes: list[str] = communes["postal_codes"]  # space-separated
        # Two-character codes repeat 36,000 times each; share one string per value.
        shared: dict[str | None, str | None] = {}
        self._departements = [shared.setdefault(code, code) for code in self._departements]
        self._regions = [shared.setdefault(code, code) for code in self._regions]
        self._refs: dict[int, CollectiviteRef] = {}

        outre_mer = document["outre_mer"]
        self._departement_names: dict[str, str] = {
            **dict(zip(outre_mer["code"], outre_mer["name"], strict=True)),
            **dict(
                zip(document["departements"]["code"], document["departements"]["name"], strict=True)
            ),
        }
        self._departement_by_key = {
            normalize(name): code for code, name in self._departement_names.items()
        }
        self._by_code: dict[CollectiviteKind, dict[str, int]] = {
            kind: {code: self._first_entry[kind] + i for i, code in enumerate(columns["code"])}
            for kind, columns in tables
        }
        self._by_siren = {siren: i for i, siren in enumerate(self._commune_sirens) if siren}
        self._by_siren.update(self._by_code["epci"])

        # Filled in rank order, so that every list of entries comes out best first.
        order = sorted(range(len(self._codes)), key=self._rank)
        # Exact matches are found in the loose index, then checked against the exact key.
        self._exact_keys = _normalize_many(self._names)
        loose_keys = _loose_many(self._exact_keys)
        self._loose: dict[str, list[int]] = {}
        self._by_postal_code: dict[str, list[int]] = {}
        add_loose, add_postal_code = self._loose.setdefault, self._by_postal_code.setdefault
        commune_count = len(self._postal_codes)
        epci = range(self._first_entry["epci"], self._first_entry["epci"] + self.count("epci"))
        for entry in order:
            add_loose(loose_keys[entry], []).append(entry)
            if entry < commune_count:
                for postal_code in self._postal_codes[entry].split():
                    add_postal_code(postal_code, []).append(entry)
            elif entry in epci:
                nature, _, rest = loose_keys[entry].partition(" ")
                if nature in _EPCI_NATURES and rest:
                    add_loose(rest, []).append(entry)
        self._loose_keys = sorted(self._loose)
        # Typos are measured against both forms of a name, so that a typo in an article
        # ("te Boulou") is one typo away from "le boulou", not three from "boulou".
        self._with_articles: dict[str, list[int]] = {}
        for entry in order:
            if self._exact_keys[entry] != loose_keys[entry]:
                self._with_articles.setdefault(self._exact_keys[entry], []).append(entry)
        self._keys_by_length: dict[int, list[str]] = {}
        for name in sorted({*self._loose_keys, *self._with_articles}):
            self._keys_by_length.setdefault(len(name), []).append(name)

    def _rank(self, entry: int) -> tuple[int, int]:
        """Most populous first; on a tie (Paris the commune and the département), communes first."""
        return (-(self._population[entry] or 0), _KIND_RANK[self._kinds[entry]])

    @classmethod
    def load(cls, path: Path | None = None) -> Referential:
        """Read the gzipped JSON written by ``scripts/fetch_referential.py`` (default: shipped)."""
        with gzip.open(path or DATA_FILE, "rb") as handle:
            return cls(json.load(handle))

    def __len__(self) -> int:
        return len(self._codes)

    def count(self, kind: CollectiviteKind) -> int:
        """Number of entries of one kind."""
        return len(self._by_code[kind])

    def all(self, kind: CollectiviteKind) -> list[CollectiviteRef]:
        """Every entry of one kind, by code."""
        return [self._ref(entry) for entry in self._by_code[kind].values()]

    def departement_name(self, code: str) -> str | None:
        """Name of a département (or overseas collectivité) code: "69" → "Rhône"."""
        return self._departement_names.get(code.strip().upper())

    def get(self, kind: CollectiviteKind, code: str) -> CollectiviteRef | None:
        """The entry with this code (SIREN for an EPCI), or None."""
        entry = self._by_code[kind].get(code.strip().upper())
        return None if entry is None else self._ref(entry)

    def is_homonym_set(self, refs: Sequence[CollectiviteRef]) -> bool:
        """True when there are at least two refs and all share one normalized name.

        The dialogue then asks for the département rather than showing a list of names that
        all read the same.
        """
        return len(refs) > 1 and len({normalize(ref.name) for ref in refs}) == 1

    def _ref(self, entry: int) -> CollectiviteRef:
        ref = self._refs.get(entry)
        if ref is None:
            kind, code = self._kinds[entry], self._codes[entry]
            departement = self._departements[entry]
            is_commune = kind == "commune"
            siren = self._commune_sirens[entry] if is_commune else None
            ref = CollectiviteRef(
                kind=kind,
                code=code,
                name=self._names[entry],
                siren=code if kind == "epci" else siren,
                departement=departement,
                region=self._regions[entry],
                postal_codes=tuple(self._postal_codes[entry].split()) if is_commune else (),
                population=self._population[entry],
                departement_name=self._departement_names.get(departement or ""),
            )
            self._refs[entry] = ref
        return ref

    # --- Search -------------------------------------------------------------------------------

    def from_emails(self, emails: Iterable[str]) -> tuple[str, CollectiviteRef] | None:
        """The collectivité the first telling address points to, with that address.

        A suggestion for the agent to confirm (``jean.dupont@villeurbanne.fr``: the commune
        of Villeurbanne), never a verified fact; see :mod:`storage.email_domains`.
        """
        return collectivite_from_emails(emails, self)

    def search(self, query: str, limit: int = 10) -> list[CollectiviteRef]:
        """Find collectivités from what an agent typed, best first.

        - 5 digits: communes having this postal code, then the commune with this INSEE code
          (Corsican codes such as "2A004" too); 2 or 3 characters such as "69", "2A", "971": the
          département; 9 digits (or a 14-digit SIRET): the EPCI or commune with this SIREN.
        - A name, compared without case, accents, hyphens or apostrophes, "St"/"Ste" read as
          "Saint"/"Sainte". Exact matches are returned alone and all of them, however many (the
          twelve Sainte-Colombe), communes first then by population. Only when there is none
          come names starting with the query ("Ambérieu"), then names one or two typos away.
        - "mairie de", "ville de", "commune de"… restrict to communes; "département du",
          "région"… to that kind. A trailing département code or name ("Sainte-Colombe 69",
          "Sainte-Colombe (Rhône)") keeps only the entries of that département.

        Args:
            query: the text as typed.
            limit: the most entries returned; exact matches and homonyms are never cut, so the
                list may be longer when they are more numerous.

        Returns:
            Matching entries, best first; empty when nothing is close enough.
        """
        if not isinstance(query, str) or len(query) > MAX_QUERY_LENGTH or limit < 1:
            return []
        compact = _CODE_SEPARATORS.sub("", query).upper()
        if compact.isdigit() or _CODE.fullmatch(compact):
            return [self._ref(entry) for entry in self._search_code(compact)]
        key = normalize(query)
        if not key or not any(char.isalpha() for char in key):
            return []
        return [self._ref(entry) for entry in self._search_name(key, limit)]

    def _search_code(self, code: str) -> list[int]:
        if len(code) in (2, 3):
            entry = self._by_code["departement"].get(code)
            return [] if entry is None else [entry]
        if len(code) == 5:
            found = list(self._by_postal_code.get(code, ()))
            insee = self._by_code["commune"].get(code)
            if insee is not None and insee not in found:
                found.append(insee)
            return found
        if len(code) == 14:
            code = code[:9]
        if len(code) == 9:
            entry = self._by_siren.get(code)
            return [] if entry is None else [entry]
        return []

    def _search_name(self, key: str, limit: int) -> list[int]:
        """Try the readings of the query from the most to the least literal; first hit wins.

        A hint that contradicts every exact match ("Sainte-Colombe (Ain)": there is none in
        the Ain) is dropped last, so the agent sees the homonyms rather than nothing.
        """
        readings = self._interpretations(key)
        hinted = [hint for reading in readings for hint in self._with_place_hint(reading)]
        unhinted = [replace(hint, departement=None, postal_code=None) for hint in hinted]
        for reading in (*readings, *hinted):
            found = self._exact_matches(reading)
            if found:
                return found
        for reading in (*readings, *hinted):
            found = self._approximate_matches(reading, limit)
            if found:
                return found
        for reading in unhinted:
            found = self._exact_matches(reading)
            if found:
                return found
        return []

    def _interpretations(self, key: str) -> list[_Interpretation]:
        """The query as typed, then without a leading "mairie de", "département du"…, an
        arrondissement ("paris 15e": the commune) or an EPCI's nature ("cc pays de gex" finds
        the CA du Pays de Gex: agents do not always know which kind their EPCI is)."""
        readings = [_Interpretation(key, None)]
        match = _ROLE_PREFIX.match(key)
        if match:
            kind = next(kind for kind in KINDS if match.group(kind))
            readings.append(_Interpretation(match.group("rest"), frozenset({kind})))
        arrondissement = _ARRONDISSEMENT.match(key)
        if arrondissement:
            readings.append(_Interpretation(arrondissement.group("city"), frozenset({"commune"})))
        without_nature = without_epci_nature(key)
        if without_nature != key:
            readings.append(_Interpretation(without_nature, frozenset({"epci"})))
        return readings

    def _with_place_hint(self, reading: _Interpretation) -> Iterable[_Interpretation]:
        """Readings where the last words name a département ("sainte colombe rhone") or where
        a postal code comes first or last ("69560 sainte colombe")."""
        words = reading.key.split()
        for index in (0, -1):
            if len(words) > 1 and words[index] in self._by_postal_code:
                rest = words[1:] if index == 0 else words[:-1]
                yield _Interpretation(" ".join(rest), reading.kinds, postal_code=words[index])
        for size in range(1, min(4, len(words) - 1) + 1):
            tail = " ".join(words[-size:])
            code = self._departement_by_key.get(tail)
            if code is None and size == 1 and _DEPARTEMENT_CODE.fullmatch(tail):
                code = tail.upper() if tail.upper() in self._departement_names else None
            if code is not None:
                yield _Interpretation(" ".join(words[:-size]), reading.kinds, code)

    def _keep(self, entries: Iterable[int], reading: _Interpretation) -> list[int]:
        kept = []
        for entry in entries:
            if reading.kinds is not None and self._kinds[entry] not in reading.kinds:
                continue
            if reading.departement is not None and self._departements[entry] != (
                reading.departement
            ):
                continue
            if reading.postal_code is not None and entry not in self._by_postal_code.get(
                reading.postal_code, ()
            ):
                continue
            kept.append(entry)
        return kept

    def _exact_matches(self, reading: _Interpretation) -> list[int]:
        """Entries named exactly as the query or, failing that, up to articles ("Havre")."""
        same_words = self._keep(self._loose.get(_loose(reading.key), ()), reading)
        exact = [entry for entry in same_words if self._exact_keys[entry] == reading.key]
        return exact or same_words

    def _named(self, key: str) -> list[int]:
        """Entries whose loose key, or whose key with its articles, is ``key``."""
        return self._loose.get(key) or self._with_articles[key]

    def _approximate_matches(self, reading: _Interpretation, limit: int) -> list[int]:
        """Names starting with the query, then names within one or two typos of it."""
        loose = _loose(reading.key)
        groups: list[list[int]] = []
        if len(loose) >= MIN_PREFIX_LENGTH:
            start = bisect.bisect_left(self._loose_keys, loose + " ")
            stop = bisect.bisect_left(self._loose_keys, loose + "!")
            if stop - start <= MAX_PREFIX_KEYS:
                prefixed = [
                    entry
                    for name in self._loose_keys[start:stop]
                    for entry in self._keep(self._loose[name], reading)
                ]
                groups.extend([entry] for entry in sorted(prefixed, key=self._rank))
        key = reading.key
        max_typos = _allowed_typos(len(key))
        if max_typos:
            lengths = range(len(key) - max_typos, len(key) + max_typos + 1)
            candidates = [
                name for length in lengths for name in self._keys_by_length.get(length, ())
            ]
            close = [
                (name, distance)
                for name, distance, _ in process.extract(
                    key,
                    candidates,
                    scorer=OSA.distance,
                    score_cutoff=max_typos,
                    limit=FUZZY_CANDIDATES,
                )
                if distance <= _typos_between(key, name)
            ]
            close.sort(key=lambda match: (match[1], self._rank(self._named(match[0])[0])))
            groups.extend(self._keep(self._named(name), reading) for name, _ in close)

        found: list[int] = []
        for group in groups:
            if len(found) >= limit:
                break
            found.extend(entry for entry in group if entry not in found)
        return found


@cache
def default_referential() -> Referential:
    """The shipped referential, loaded on first use and shared by the whole process."""
    return Referential.load()
