"""Models loaded in the background, so that the bot answers as soon as it starts.

Loading spaCy's French language (its tokenizer compiles large regular expressions) and the
models costs several seconds of CPU at each start, while the first turns of a conversation
(welcome, profile, menu, title) need no model. ``recueil run`` and ``recueil chat`` start
loading in a thread and serve at once; the first turn that needs a model waits for the load
(only in the first seconds after a start). A load that fails is raised to that turn as the
synchronous load would have been, and logged.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Generic, TypeVar

from bot.consultation.recurrence import SimilarIndex
from nlp.classifier import Classifier, Prediction

log = logging.getLogger(__name__)

T = TypeVar("T")


class Loading(Generic[T]):
    """A value built in a daemon thread from construction on; ``get()`` waits for it."""

    def __init__(
        self, build: Callable[[], T], name: str, then: Callable[[], None] | None = None
    ) -> None:
        """``then`` runs in the same thread once the value is handed over (its errors are
        logged): work that must not keep a waiting turn waiting."""
        self.name = name
        self._future: Future[T] = Future()
        threading.Thread(
            target=self._run, args=(build, then), name=f"load-{name}", daemon=True
        ).start()

    def _run(self, build: Callable[[], T], then: Callable[[], None] | None) -> None:
        try:
            value = build()
        except BaseException as exc:
            log.exception("loading %s failed", self.name)
            self._future.set_exception(exc)
            return
        self._future.set_result(value)
        if then is not None:
            try:
                then()
            except Exception:
                log.exception("after loading %s", self.name)

    @property
    def ready(self) -> bool:
        return self._future.done()

    def get(self) -> T:
        return self._future.result()


class LoadingClassifier:
    """The thématique classifier, usable before it has finished loading."""

    def __init__(self, build: Callable[[], Classifier]) -> None:
        self.loading = Loading(build, "classifier")

    @property
    def threshold(self) -> float:
        return self.loading.get().threshold

    def predict(self, text: str) -> Prediction:
        return self.loading.get().predict(text)


class LoadingIndex:
    """The same-need index, usable before it has been built from the stored contributions."""

    def __init__(
        self, build: Callable[[], SimilarIndex], then: Callable[[], None] | None = None
    ) -> None:
        self.loading = Loading(build, "same-need index", then)

    def add(self, contribution_id: int, kind: str, text: str) -> dict[str, Any] | None:
        return self.loading.get().add(contribution_id, kind, text)

    def search(
        self, text: str, kind: str, limit: int = 3, *, min_score: float | None = None
    ) -> list[tuple[int, float]]:
        return self.loading.get().search(text, kind, limit, min_score=min_score)

    def decide(self, score: float, usage_a: str | None, usage_b: str | None) -> bool:
        return self.loading.get().decide(score, usage_a, usage_b)

    @property
    def lowest_threshold(self) -> float:
        return self.loading.get().lowest_threshold
