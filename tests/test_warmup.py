"""The running bot answers before its models have loaded; the first turn needing one waits."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
from fake_transport import FakeTransport
from test_intake import register
from test_recurrence import SALLES, agent, describe

from bot.app import services as services_module
from bot.app.engine import Engine
from bot.app.services import build_engine
from bot.app.warmup import Loading, LoadingClassifier, LoadingIndex
from config.settings import Settings
from nlp.classifier import Classifier


@pytest.fixture
def held_models(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """The models' loading waits until the test releases it (released at teardown anyway)."""
    release = threading.Event()

    def held(load: Callable[..., object]) -> Callable[..., object]:
        def waiting(*args: object) -> object:
            release.wait()
            return load(*args)

        return waiting

    monkeypatch.setattr(services_module, "load_classifier", held(services_module.load_classifier))
    monkeypatch.setattr(services_module, "_fill_index", held(services_module._fill_index))
    yield release
    release.set()


async def test_the_first_turns_are_answered_while_the_models_load(
    held_models: threading.Event, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    engine: Engine = build_engine(Settings(data_dir=tmp_path))
    engine.register(FakeTransport())
    classifier = engine.services.classifier
    index = engine.services.similar
    assert isinstance(classifier, LoadingClassifier) and isinstance(index, LoadingIndex)
    try:
        alice = agent(engine, "alice")
        await register(alice, "Villeurbanne")  # welcome and the whole profile
        await alice.say("Décrire un besoin")
        await alice.say(SALLES[0])
        assert "Décrivez" in alice.text or "description" in alice.text.lower()
        assert not classifier.loading.ready and not index.loading.ready

        held_models.set()  # the models arrive; the thématique step waits for them if need be
        await alice.say(SALLES[1])
        await alice.say("1")
        await alice.say("passer")
        assert classifier.loading.ready
        assert "relever du thème « Patrimoine / Équipements publics »" in alice.text.replace(
            "\xa0", " "
        )
    finally:
        await engine.close()
        engine.store.close()


async def test_a_contribution_sent_right_after_a_start_is_found_by_the_next_agent(
    tmp_path,
) -> None:  # type: ignore[no-untyped-def]
    engine: Engine = build_engine(Settings(data_dir=tmp_path))
    engine.register(FakeTransport())
    try:
        alice = agent(engine, "alice")
        await register(alice, "Villeurbanne")
        await describe(alice, *SALLES)
        await alice.say("Envoyer")
        bob = agent(engine, "bob")
        await register(bob, "Grenoble")
        await describe(bob, *SALLES)
        assert "Villeurbanne (Rhône) a déjà décrit un besoin proche" in bob.text
    finally:
        await engine.close()
        engine.store.close()


def test_a_model_that_fails_to_load_fails_the_turn_that_needs_it() -> None:
    def broken() -> Classifier:
        raise OSError("modèle illisible")

    classifier = LoadingClassifier(broken)
    with pytest.raises(OSError, match="modèle illisible"):
        classifier.predict("un texte")
    with pytest.raises(OSError):
        _ = classifier.threshold


def test_loading_runs_once_and_hands_the_same_value_to_every_caller() -> None:
    calls: list[int] = []
    loading = Loading(lambda: calls.append(1) or object(), "thing")
    first = loading.get()
    assert loading.get() is first and calls == [1] and loading.ready
