"""Text features for the thématique classifier and the similarity index.

Agents type without accents, with typos and abbreviations, so every feature is taken from a
folded form (lower case, no accents, ligatures split). On top of the words, the classifier
uses a light French stem (plural and common derivational endings removed) and character
n-grams inside words, which carry the signal of unseen inflections and misspellings.

The features are hashed to 64-bit keys and fed to a thinc ``SparseLinear`` layer through a
registered spaCy architecture, so the classifier is an ordinary spaCy ``textcat`` component
that saves and loads with the pipeline.
"""

from __future__ import annotations

import itertools
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

import numpy
from spacy.strings import hash_string  # type: ignore[attr-defined]
from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Model, SparseLinear_v2, chain, softmax_activation, with_cpu
from thinc.types import Floats2d

_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "’": "'", "ʼ": "'", "`": "'"})

# Function words carry no thématique; they are kept for bigrams only.
STOPWORDS = frozenset(
    [
        "a",
        "ai",
        "as",
        "au",
        "aux",
        "avec",
        "c",
        "ca",
        "ce",
        "ceci",
        "cela",
        "ces",
        "cet",
        "cette",
        "d",
        "dans",
        "de",
        "des",
        "du",
        "elle",
        "elles",
        "en",
        "est",
        "et",
        "etc",
        "eux",
        "il",
        "ils",
        "j",
        "je",
        "l",
        "la",
        "le",
        "les",
        "leur",
        "leurs",
        "lui",
        "m",
        "ma",
        "mais",
        "me",
        "meme",
        "mes",
        "moi",
        "mon",
        "n",
        "ne",
        "ni",
        "nos",
        "notre",
        "nous",
        "on",
        "ou",
        "par",
        "pas",
        "pour",
        "qu",
        "que",
        "qui",
        "s",
        "sa",
        "sans",
        "se",
        "ses",
        "si",
        "son",
        "sont",
        "sur",
        "t",
        "ta",
        "te",
        "tes",
        "toi",
        "ton",
        "tu",
        "un",
        "une",
        "vos",
        "votre",
        "vous",
        "y",
        "ete",
        "etre",
        "avoir",
        "ont",
        "fait",
        "faire",
        "faut",
        "peu",
        "tres",
        "plus",
        "bien",
        "aussi",
        "deja",
        "tout",
        "tous",
        "toute",
        "toutes",
        "comme",
        "quand",
        "qd",
        "pr",
        "ds",
        "svp",
        "bjr",
        "bonjour",
        "merci",
        "via",
        "chez",
        "donc",
        "alors",
        "car",
    ]
)

# Light stemming: longest suffix first; a stem keeps at least four letters.
_SUFFIXES = (
    "issements",
    "issement",
    "ations",
    "ation",
    "ements",
    "ement",
    "ments",
    "ment",
    "euses",
    "euse",
    "eurs",
    "eur",
    "ives",
    "ive",
    "ifs",
    "if",
    "iques",
    "ique",
    "elles",
    "elle",
    "aux",
    "ees",
    "ee",
    "es",
    "er",
    "ez",
    "e",
    "s",
    "x",
)

MAX_CHARS = 3000
"""Only the beginning of very long texts is read: a contribution is a few sentences."""


def fold(text: str) -> str:
    """Lower case without accents: ``Déchèterie`` and ``dechetterie`` come close."""
    text = text.casefold().translate(_LIGATURES)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def stem(word: str) -> str:
    """A light French stem of a folded word."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def words(doc: Doc) -> list[str]:
    """The folded alphanumeric tokens of a document, elisions (``l'``) reduced to their letter."""
    out = []
    for token in doc:
        text = token.text
        if not any(ch.isalnum() for ch in text):
            continue
        folded = fold(text).strip("'-.")
        if folded:
            out.append(folded)
    return out


def content_words(tokens: Iterable[str]) -> list[str]:
    return [w for w in tokens if w not in STOPWORDS and len(w) > 1]


def clean_text(text: object) -> str:
    """What a model reads of any input: a string, its beginning only, no lone surrogates."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    # Lone surrogates (from badly decoded input) would make the tokenizer's output unprintable.
    return text[:MAX_CHARS].encode("utf-8", "replace").decode("utf-8")


def feature_strings(
    tokens: Sequence[str], *, bigrams: bool, stems: bool, chars: tuple[int, int] | None
) -> list[str]:
    """Named features of one text: words, word bigrams, stems and character n-grams."""
    content = content_words(tokens)
    features = ["w:" + w for w in content]
    if bigrams:
        features += ["b:" + a + " " + b for a, b in itertools.pairwise(tokens)]
    if stems:
        features += ["s:" + stem(w) for w in content]
    if chars is not None:
        low, high = chars
        for w in content:
            if w.isdigit():
                continue
            padded = "<" + w + ">"
            for n in range(low, high + 1):
                features += ["c:" + padded[i : i + n] for i in range(len(padded) - n + 1)]
    return features


def _forward(model: Model, docs: list[Doc], is_train: bool) -> tuple[Any, Any]:
    options = model.attrs
    batch_keys = []
    batch_vals = []
    for doc in docs:
        names = feature_strings(
            words(doc),
            bigrams=options["bigrams"],
            stems=options["stems"],
            chars=options["chars"],
        )
        if not names:
            names = ["<empty>"]
        counts: dict[int, int] = {}
        for name in names:
            key = hash_string(name)
            counts[key] = counts.get(key, 0) + 1
        keys = numpy.fromiter(counts.keys(), dtype="uint64", count=len(counts))
        # Sublinear counts, normalised so that long texts do not saturate the softmax.
        vals = 1.0 + numpy.log(numpy.fromiter(counts.values(), dtype="float32", count=len(counts)))
        vals /= numpy.sqrt(float(len(names)))
        batch_keys.append(keys)
        batch_vals.append(vals.astype("float32"))
    lengths = model.ops.asarray1i([len(keys) for keys in batch_keys])
    keys_array = numpy.concatenate(batch_keys) if batch_keys else numpy.zeros(0, dtype="uint64")
    vals_array = numpy.concatenate(batch_vals) if batch_vals else numpy.zeros(0, dtype="float32")

    def backprop(d_output: Any) -> list[Doc]:
        return []

    return (keys_array, vals_array, lengths), backprop


def extract_features(bigrams: bool, stems: bool, chars: tuple[int, int] | None) -> Model:
    model: Model = Model("recueil_features", _forward)
    model.attrs.update({"bigrams": bigrams, "stems": stems, "chars": chars})
    return model


@registry.architectures("recueil.TextCatHashed.v1")
def build_hashed_textcat(
    bigrams: bool = True,
    stems: bool = True,
    char_min: int = 0,
    char_max: int = 0,
    length: int = 2**16,
    nO: int | None = None,
) -> Model[list[Doc], Floats2d]:
    """A linear softmax over hashed words, bigrams, stems and character n-grams.

    Args:
        char_min: the shortest character n-gram (0: no character n-grams).
        char_max: the longest character n-gram.
        length: the number of hash buckets (the model's size is ``length x classes`` floats).
    """
    chars = (char_min, char_max) if char_min > 0 else None
    sparse = SparseLinear_v2(nO=nO, length=length)
    model: Model[list[Doc], Floats2d] = chain(
        with_cpu(chain(extract_features(bigrams, stems, chars), sparse), sparse.ops),
        softmax_activation(),
    )
    if nO is not None:
        model.set_dim("nO", nO)
    model.set_ref("output_layer", sparse)
    model.attrs["multi_label"] = False
    return model


def _mean_vectors_forward(model: Model, docs: list[Doc], is_train: bool) -> tuple[Any, Any]:
    """The mean static vector of each document's content words (unit length), no gradient."""
    width = model.get_dim("nO")
    out = numpy.zeros((len(docs), width), dtype="float32")
    for row, doc in enumerate(docs):
        table = doc.vocab.vectors
        if table.shape[0] == 0:
            continue
        total = numpy.zeros(width, dtype="float32")
        found = 0
        for token in doc:
            lower = token.lower_
            if lower in STOPWORDS or not any(ch.isalpha() for ch in lower):
                continue
            for form in (lower, fold(lower)):
                key = hash_string(form)
                if key in table:
                    total += table[key]
                    found += 1
                    break
        if found:
            norm = float(numpy.linalg.norm(total))
            if norm > 0:
                out[row] = total * (model.attrs["scale"] / norm)
    result = model.ops.asarray2f(out)  # type: ignore[arg-type]

    def backprop(d_output: Any) -> list[Doc]:
        return []

    return result, backprop


def mean_vectors(width: int, scale: float = 1.0) -> Model:
    return Model(
        "recueil_mean_vectors", _mean_vectors_forward, dims={"nO": width}, attrs={"scale": scale}
    )


@registry.architectures("recueil.TextCatHashedVectors.v1")
def build_hashed_vectors_textcat(
    bigrams: bool = True,
    stems: bool = True,
    char_min: int = 0,
    char_max: int = 0,
    length: int = 2**16,
    vector_width: int = 300,
    hidden: int = 0,
    vector_scale: float = 1.0,
    nO: int | None = None,
) -> Model[list[Doc], Floats2d]:
    """:func:`build_hashed_textcat` plus a layer over the mean static word vector.

    Args:
        hidden: width of a ReLU layer between the mean vector and the output (0: linear).
        vector_scale: length of the mean vector (it is scaled to unit length then this).
    """
    from thinc.api import Linear, Relu, add

    chars = (char_min, char_max) if char_min > 0 else None
    sparse = SparseLinear_v2(nO=nO, length=length)
    dense: Model[Floats2d, Floats2d] = Linear(nO=nO, nI=hidden or vector_width)
    if hidden:
        dense = chain(Relu(nO=hidden, nI=vector_width), dense)
    model: Model[list[Doc], Floats2d] = chain(
        add(
            with_cpu(chain(extract_features(bigrams, stems, chars), sparse), sparse.ops),
            chain(mean_vectors(vector_width, vector_scale), dense),
        ),
        softmax_activation(),
    )
    if nO is not None:
        model.set_dim("nO", nO)
    model.set_ref("output_layer", sparse)
    model.attrs["multi_label"] = False
    return model
