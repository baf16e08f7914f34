"""What real users decided, as labelled examples: training material and a measure by week.

During the consultation every agent confirms or corrects the suggested thématique and answers
« Est-ce le même besoin ? »; administrators put contributions into proposals and regroup or
separate them. Each of these is a label given by someone who knows the need, on text nobody
here wrote. ``bot.consultation.learning`` reads them from the database; this module turns
them into training rows (``recueil nlp train --with-feedback``) and measures the models on
them week by week (``recueil nlp eval --feedback``). It never reads the database itself.

When several decisions bear on the same text or the same pair, the administrator's wins over
the agent's, and among equals the latest wins (``resolved``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from config.typography import decimal
from nlp.corpus import BadLineError, Labelled, json_lines
from nlp.evaluation import Ranked, decision_figures, report

if TYPE_CHECKING:
    from nlp.needs import NeedModel
    from nlp.similarity import Similarity
    from nlp.spacy_classifier import SpacyClassifier

AGENT, ADMINISTRATOR = "agent", "administrateur"
RANK = {AGENT: 0, ADMINISTRATOR: 1}
"""Who wins when two decisions bear on the same text or pair."""

THEMATIQUE_REPEAT = 3
"""A user's thématique counts as this many written training lines: a few hundred real
decisions beside 2,578 lines in our voice would otherwise barely move the model."""
NEED_TYPE_MIN = 0.5
"""A group said to be the same need teaches its type only if one of its texts reads it with
at least this probability (below it, the model does not know which type to teach)."""


DECISION_LINE = "une décision écrite par « recueil nlp feedback --output »"


@dataclass(frozen=True, slots=True)
class ThematiqueDecision:
    """The thématique a user gave a text."""

    key: str
    """What the decision is about (a contribution's reference): a later decision replaces it."""
    text: str
    thematique: str
    source: str
    at: datetime
    corrected: bool = False
    """The user chose another thématique than the one in place: the model's suggestion for
    an agent, the agent's choice for an administrator."""


@dataclass(frozen=True, slots=True)
class PairDecision:
    """Whether two texts describe the same need, as a user decided."""

    key: tuple[str, str]
    """The two contributions' references, sorted."""
    a: str
    b: str
    same: bool
    source: str
    at: datetime
    usage_a: str | None = None
    usage_b: str | None = None


Decision = TypeVar("Decision", ThematiqueDecision, PairDecision)


@dataclass(frozen=True)
class Feedback:
    thematiques: list[ThematiqueDecision] = field(default_factory=list)
    pairs: list[PairDecision] = field(default_factory=list)

    def resolved(self) -> Feedback:
        """One decision per text and per pair: the administrator's, else the latest."""
        return Feedback(_resolve(self.thematiques), _resolve(self.pairs))

    def write(self, path: Path, replace: bool = True) -> None:
        """JSON lines, one decision each (``kind``: ``thematique`` or ``pair``).

        Raises:
            FileExistsError: ``path`` exists and ``replace`` is false.
        """
        with path.open("w" if replace else "x", encoding="utf-8") as out:
            for kind, items in (("thematique", self.thematiques), ("pair", self.pairs)):
                for item in items:
                    data = {"kind": kind, **asdict(item), "at": item.at.isoformat()}
                    out.write(json.dumps(data, ensure_ascii=False) + "\n")

    @classmethod
    def read(cls, path: Path) -> Feedback:
        """Decisions written by :meth:`write`; ``ValueError`` names the first bad line."""
        thematiques, pairs = [], []
        for number, data in json_lines(path, DECISION_LINE):
            try:
                kind = data.pop("kind")
                data["at"] = datetime.fromisoformat(data["at"])
                if kind == "thematique":
                    thematiques.append(ThematiqueDecision(**data))
                elif kind == "pair":
                    data["key"] = tuple(data["key"])
                    pairs.append(PairDecision(**data))
                else:
                    raise ValueError(f"kind {kind!r}")
            except (ValueError, KeyError, TypeError, AttributeError) as error:
                raise BadLineError(
                    path,
                    number,
                    f"ce n’est pas {DECISION_LINE} ({type(error).__name__} : {error})",
                ) from error
        return cls(thematiques, pairs)


def _resolve(decisions: Iterable[Decision]) -> list[Decision]:
    best: dict[Any, Decision] = {}
    for decision in decisions:
        current = best.get(decision.key)
        if current is None or (RANK[decision.source], decision.at) >= (
            RANK[current.source],
            current.at,
        ):
            best[decision.key] = decision
    return sorted(best.values(), key=lambda d: (d.at, d.key))


def thematique_rows(feedback: Feedback, known: Iterable[str]) -> list[Labelled]:
    """Training lines from the users' thématiques (each ``THEMATIQUE_REPEAT`` times)."""
    labels = set(known)
    return [
        Labelled(decision.text, decision.thematique)
        for decision in feedback.resolved().thematiques
        if decision.thematique in labels and decision.text.strip()
        for _ in range(THEMATIQUE_REPEAT)
    ]


def need_type_rows(feedback: Feedback, model: NeedModel) -> list[Labelled]:
    """Training lines for the need types, from what users said is the same need.

    The pairs said to be the same need are joined into groups (a proposal of twelve
    contributions is one group, not 66 pairs). A group's type is the one whose probabilities,
    summed over its texts, are the highest, provided one of its texts reads it with at least
    ``NEED_TYPE_MIN``; every text of the group is taught it once, so that the other wordings
    are recognised as that need. Pairs said to differ teach nothing here (nobody said which
    type either text is): they count in the measure by week.
    """
    parent: dict[str, str] = {}

    def root(key: str) -> str:
        while parent.setdefault(key, key) != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    texts: dict[str, str] = {}
    for pair in feedback.resolved().pairs:
        if pair.same:
            texts[pair.key[0]], texts[pair.key[1]] = pair.a, pair.b
            parent[root(pair.key[0])] = root(pair.key[1])
    groups: dict[str, list[str]] = {}
    for key in texts:
        groups.setdefault(root(key), []).append(key)
    keys = sorted(texts)
    read = dict(zip(keys, model.distributions([texts[key] for key in keys]), strict=True))
    rows = []
    for members in groups.values():
        summed: dict[str, float] = {}
        for key in members:
            for need, probability in read[key].items():
                summed[need] = summed.get(need, 0.0) + probability
        if not summed:
            continue
        need = max(summed, key=lambda each: (summed[each], each))
        if max(read[key].get(need, 0.0) for key in members) >= NEED_TYPE_MIN:
            rows += [Labelled(texts[key], need) for key in sorted(members)]
    return rows


def week(at: datetime) -> str:
    year, number, _ = at.isocalendar()
    return f"{year}-S{number:02d}"


@dataclass(frozen=True, slots=True)
class ThematiqueWeek:
    week: str
    decisions: int
    corrected: int
    """Decisions that changed the thématique in place (``ThematiqueDecision.corrected``)."""
    accuracy: float
    """The current model's first choice against the users' decisions."""
    top3: float


@dataclass(frozen=True, slots=True)
class PairWeek:
    week: str
    pairs: int
    same: int
    precision: float | None
    """Of the pairs the current model calls the same need, the share users called so."""
    recall: float | None


def measure_thematiques(
    feedback: Feedback, classifier: SpacyClassifier, known: Iterable[str]
) -> list[ThematiqueWeek]:
    labels = list(known)
    decided = [d for d in feedback.resolved().thematiques if d.thematique in labels]
    predictions = classifier.predict_many([d.text for d in decided])  # one batch, all weeks
    by_week: dict[str, list[tuple[ThematiqueDecision, Ranked]]] = {}
    for decision, prediction in zip(decided, predictions, strict=True):
        by_week.setdefault(week(decision.at), []).append((decision, prediction.ranked))
    out = []
    for name, judged in sorted(by_week.items()):
        decisions = [decision for decision, _ in judged]
        ranked = [ranking for _, ranking in judged]
        scores = report([d.thematique for d in decisions], ranked, labels)
        corrected = sum(d.corrected for d in decisions)
        out.append(ThematiqueWeek(name, len(decisions), corrected, scores.accuracy, scores.top3))
    return out


def measure_pairs(feedback: Feedback, similarity: Similarity) -> list[PairWeek]:
    by_week: dict[str, list[PairDecision]] = {}
    for pair in feedback.resolved().pairs:
        by_week.setdefault(week(pair.at), []).append(pair)
    out = []
    for name, pairs in sorted(by_week.items()):
        scores = similarity.scores([(p.a, p.b) for p in pairs])
        figures = decision_figures(
            (similarity.decide(score, p.usage_a, p.usage_b), p.same)
            for score, p in zip(scores, pairs, strict=True)
        )
        precision, recall = (_none_if_nan(figures[key]) for key in ("precision", "recall"))
        out.append(PairWeek(name, len(pairs), sum(p.same for p in pairs), precision, recall))
    return out


def _none_if_nan(value: float) -> float | None:
    return None if math.isnan(value) else value


def _share(value: float | None) -> str:
    return "—" if value is None else decimal(value, 3)


def render_measure(thematiques: Sequence[ThematiqueWeek], pairs: Sequence[PairWeek]) -> str:
    """The measure by week, in French, for ``recueil nlp eval --feedback``."""
    lines = ["Thématique : le modèle actuel face aux choix des agents et des administrateurs"]
    if thematiques:
        lines.append(
            f"{'semaine':<10} {'décisions':>9} {'corrigées':>9} {'exactitude':>10} {'top-3':>6}"
        )
        lines += [
            f"{w.week:<10} {w.decisions:>9} {w.corrected:>9} {_share(w.accuracy):>10} "
            f"{_share(w.top3):>6}"
            for w in thematiques
        ]
    else:
        lines.append("  aucune décision enregistrée")
    lines += ["", "Même besoin : le modèle actuel face aux réponses et aux regroupements"]
    if pairs:
        lines.append(f"{'semaine':<10} {'paires':>6} {'mêmes':>6} {'précision':>9} {'rappel':>6}")
        lines += [
            f"{w.week:<10} {w.pairs:>6} {w.same:>6} {_share(w.precision):>9} {_share(w.recall):>6}"
            for w in pairs
        ]
    else:
        lines.append("  aucune paire jugée")
    lines += [
        "",
        "« corrigées » : l’agent a écarté la suggestion du modèle, ou l’administrateur le choix",
        "de l’agent ;",
        "précision : part des paires que le modèle dit identiques que les utilisateurs ont",
        "dites identiques ; rappel : part des paires dites identiques que le modèle retrouve.",
    ]
    return "\n".join(lines)
