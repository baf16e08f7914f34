"""Recurrence: before the summary, show the same need already described elsewhere.

A need described by several collectivités is worth funding; an agent who recognises theirs
joins it (their own wording kept, their collectivité recorded as sharing it). For a need,
existing services that may answer it are shown too. The search itself is ``nlp``'s.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

from bot.consultation.collectivites import lookup
from bot.dialogue.context import Context
from bot.dialogue.parsing import Option
from bot.forms.base import FormState, Interlude, Question
from nlp.similarity import comparable_usage
from storage.store import ContributionSummary

SHOWN = 3
CANDIDATES = 20
"""Read from the index before the usages decide; more than shown, as some are left out."""
NONE_OF_THEM = "aucun"
SHOWN_KEY = "similar_shown"
"""The answer that keeps what was shown: ``[{"id", "score", "joined"}, ...]``."""


class SimilarIndex(Protocol):
    """Contributions searchable by meaning; ids are the database's."""

    def add(self, contribution_id: int, kind: str, text: str) -> dict[str, Any] | None:
        """Index a contribution; returns its entry to store with it (None: nothing to keep)."""
        ...

    def search(
        self, text: str, kind: str, limit: int = 3, *, min_score: float | None = None
    ) -> list[tuple[int, float]]: ...

    def decide(self, score: float, usage_a: str | None, usage_b: str | None) -> bool: ...

    @property
    def lowest_threshold(self) -> float: ...


class SerializedIndex:
    """An index shared by the database threads (PostgreSQL): one operation at a time."""

    def __init__(self, index: SimilarIndex) -> None:
        self._index = index
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._index)  # type: ignore[arg-type]

    def add(self, contribution_id: int, kind: str, text: str) -> dict[str, Any] | None:
        with self._lock:
            entry = self._index.similarity.entries([text])[0]  # type: ignore[attr-defined]
            self._index.add_entries([(contribution_id, kind, entry)])  # type: ignore[attr-defined]
            return dict(entry.stored())

    def search(
        self, text: str, kind: str, limit: int = 3, *, min_score: float | None = None
    ) -> list[tuple[int, float]]:
        with self._lock:
            return self._index.search(text, kind, limit, min_score=min_score)

    def decide(self, score: float, usage_a: str | None, usage_b: str | None) -> bool:
        return self._index.decide(score, usage_a, usage_b)

    @property
    def lowest_threshold(self) -> float:
        return self._index.lowest_threshold


def indexed_text(title: str, description: str) -> str:
    """What the same-need index reads of a contribution."""
    return f"{title}\n{description}"


def contribution_text(form: FormState) -> str:
    return indexed_text(form.answers.get("title", ""), form.answers.get("description", ""))


def _others(ctx: Context, form: FormState, kind: str) -> list[tuple[ContributionSummary, float]]:
    """Contributions of ``kind`` by other collectivités describing the same need, scored.

    The words find candidates; the usages the authors chose (what the service is mainly
    for) then decide, so that the same subject with another purpose is not offered.
    """
    index = ctx.services.similar
    if index is None:
        return []
    text = contribution_text(form)
    hits = dict(index.search(text, kind, limit=CANDIDATES, min_score=index.lowest_threshold))
    own = ctx.agent.collectivite_id if ctx.agent else None
    usage = comparable_usage(form.answers.get("usage"))
    found = [
        (s, hits[s.id])
        for s in ctx.tx.contribution_summaries(list(hits))
        if s.collectivite_id != own and index.decide(hits[s.id], usage, comparable_usage(s.usage))
    ]
    return found[:SHOWN]


SEARCHED_WITH = ("title", "description", "usage")
"""The answers the search reads: changing one of them after the search searches again."""


def forget_if_changed(form: FormState, field: str) -> None:
    """An edit of what the search read: its result (and a join) no longer holds."""
    if field in SEARCHED_WITH:
        for key in ("same_as", SHOWN_KEY, "services_suggested"):
            form.answers.pop(key, None)


def look_for_recurrence(ctx: Context, form: FormState) -> list[str]:
    """Search once, when the form is complete: returns texts to say before going on.

    Candidates of the same kind are kept in ``form.sub`` for the question; services that
    may answer a need are said at once, and remembered in the answers.
    """
    notes: list[str] = []
    if form.name == "besoin" and "services_suggested" not in form.answers:
        services = [s for s, _ in _others(ctx, form, "service")]
        form.answers["services_suggested"] = [s.reference for s in services]
        if services:
            items = "\n".join(
                ctx.t(
                    "recurrence.service_item",
                    title=s.title,
                    collectivite=label(ctx, s),
                    url=f" — {s.url}" if s.url else "",
                )
                for s in services
            )
            collectivites = len({s.collectivite_id for s in services})
            notes.append(
                ctx.t(
                    "recurrence.services",
                    items=items,
                    services=len(services),
                    collectivites=collectivites,
                )
            )
    same = _others(ctx, form, form.name)
    if same:
        form.sub = {
            "similar": [s.id for s, _ in same],
            "scores": [round(score, 4) for _, score in same],
        }
    else:
        form.answers["same_as"] = None
    return notes


SIMILAR_SCENE = "similar"


def before_summary(ctx: Context, form: FormState) -> Interlude:
    """The form's hook: search once, when the form is complete (not again after a join)."""
    if "same_as" in form.answers:
        return Interlude()
    notes = look_for_recurrence(ctx, form)
    return Interlude(tuple(notes), SIMILAR_SCENE if form.sub.get("similar") else None)


def label(ctx: Context, summary: ContributionSummary) -> str:
    return lookup(ctx, summary.collectivite_kind, summary.collectivite_code).label


def question(ctx: Context, form: FormState) -> Question:
    shown = ctx.tx.contribution_summaries(form.sub.get("similar", []))
    kind = ctx.t(f"recurrence.kind.{form.name}")
    if len(shown) == 1:
        [only] = shown
        return Question(
            ctx.t("recurrence.one", collectivite=label(ctx, only), kind=kind, title=only.title),
            (
                Option(f"s{only.id}", ctx.t("recurrence.join"), polarity=True),
                Option(NONE_OF_THEM, ctx.t("recurrence.own"), polarity=False),
            ),
            free_text=True,  # « je ne sais pas » gets an explanation (SimilarScene)
        )
    options = [
        Option(f"s{s.id}", ctx.t("recurrence.item", title=s.title, collectivite=label(ctx, s)))
        for s in shown
    ]
    options.append(Option(NONE_OF_THEM, ctx.t("recurrence.none_of_them"), polarity=False))
    return Question(ctx.t("recurrence.many", kind=kind), tuple(options), free_text=True)


def answer(ctx: Context, form: FormState, choice: str) -> str:
    """Record the agent's answer; returns what to say.

    What was shown, with its scores, stays in the answers (``SHOWN_KEY``): the agents' answers
    measure the detection's precision on real contributions (``recueil nlp feedback``).
    """
    shown, scores = form.sub.get("similar", []), form.sub.get("scores", [])
    joined = None if choice == NONE_OF_THEM else int(choice.removeprefix("s"))
    form.sub = {}
    form.answers[SHOWN_KEY] = [
        {"id": contribution_id, "score": score, "joined": contribution_id == joined}
        for contribution_id, score in zip(shown, scores, strict=False)
    ]
    form.answers["same_as"] = joined
    if joined is None:
        return ""
    return ctx.t("recurrence.joined", kind=ctx.t(f"recurrence.kind.{form.name}"))


def summary_line(ctx: Context, form: FormState) -> str:
    same_as = form.answers.get("same_as")
    if not same_as:
        return ""
    found = ctx.tx.contribution_summaries([same_as])
    if not found:
        return ""
    joined = found[0]
    return ctx.t(
        "recurrence.summary",
        kind=ctx.t(f"recurrence.kind.{form.name}"),
        title=joined.title,
        collectivite=label(ctx, joined),
    )
