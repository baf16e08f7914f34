"""Assembling the bot from the settings: store, services, engine and transports."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.app.engine import Engine
from bot.app.metrics import Metrics
from bot.app.warmup import LoadingClassifier, LoadingIndex
from bot.commands import build_commands
from bot.consultation import vote
from bot.consultation.recurrence import SerializedIndex, indexed_text
from bot.core.flood import FloodGate
from bot.core.values import ConversationKey
from bot.dialogue.context import Services
from bot.forms.intake import build_forms
from bot.forms.volunteering import build_volunteer_forms
from bot.scenes import build_scenes
from config.calendar import Calendar
from config.catalogue import Catalogue
from config.settings import Settings
from config.taxonomy import Taxonomy
from nlp.classifier import Classifier
from nlp.loading import load_classifier, load_similarity
from nlp.paths import MODEL_DIR
from nlp.similarity import SIMILARITY_FILE, SimilarityIndex
from storage.models import utcnow
from storage.referential import default_referential
from storage.store import Store

log = logging.getLogger(__name__)


def model_path(settings: Settings) -> Path:
    """Where the models are read: ``RECUEIL_MODEL_DIR`` (a model retrained with the users'
    decisions, ``recueil nlp train --with-feedback --output``), else the shipped one."""
    return settings.model_dir or MODEL_DIR


def build_services(settings: Settings, classifier: Classifier | None = None) -> Services:
    taxonomy = Taxonomy.load(settings.taxonomy_file)
    catalogue = Catalogue.load(settings.messages_file)
    return Services(
        settings=settings,
        catalogue=catalogue,
        taxonomy=taxonomy,
        calendar=Calendar.load(settings.zone, settings.calendar_file, catalogue),
        referential=default_referential(),
        classifier=classifier or load_classifier(taxonomy, model_path(settings)),
        forms={**build_forms(), **build_volunteer_forms()},
        scenes=build_scenes(),
        commands=build_commands(),
        polls={"vote": vote.poll_answer},
    )


def open_store(settings: Settings) -> Store:
    """The database, on the bot's clock (``RECUEIL_NOW`` in a trial): the commands date
    what they record as the running bot would."""
    return Store.open(
        settings.effective_database_url,
        auto_migrate=settings.auto_migrate,
        clock=clock_of(settings),
    )


def similarity_index(store: Store, path: Path = MODEL_DIR) -> SerializedIndex | None:
    """The same-need index, filled with every stored contribution (the database is the truth).

    None, with a logged warning, when no similarity model ships: the step is then skipped.
    """
    if not similarity_available(path):
        return None
    index, computed = _fill_index(_stored_texts(store), path)
    _write_back(store, computed)
    return index


def loading_similarity_index(store: Store, path: Path = MODEL_DIR) -> LoadingIndex | None:
    """The same index, built in the background from the rows read now.

    The rows are read before the bot serves (a contribution sent later is added by its own
    turn, once the index is there). The entries computed are written back only after the
    index is handed over: a turn waiting for the index holds SQLite's write lock.
    """
    if not similarity_available(path):
        return None
    rows = _stored_texts(store)
    computed: list[tuple[int, dict[str, Any]]] = []

    def build() -> SerializedIndex:
        index, found = _fill_index(rows, path)
        computed.extend(found)
        return index

    return LoadingIndex(build, then=lambda: _write_back(store, computed))


def similarity_available(path: Path = MODEL_DIR) -> bool:
    if not (path / SIMILARITY_FILE).is_file():
        log.warning(
            "recherche du même besoin désactivée : pas de %s dans %s", SIMILARITY_FILE, path
        )
        return False
    return True


StoredText = tuple[int, str, str, dict[str, Any] | None]


def _stored_texts(store: Store) -> list[StoredText]:
    with store.transaction() as tx:
        stored = tx.index_entries()
        return [
            (cid, kind, indexed_text(title, description), stored.get(cid))
            for cid, kind, title, description in tx.contribution_texts()
        ]


def _fill_index(
    rows: list[StoredText], path: Path
) -> tuple[SerializedIndex, list[tuple[int, dict[str, Any]]]]:
    """Stored entries are read as they are; those missing or of another model are computed
    (and returned, to be written back, so that the next start runs no model: docs/nlp.md)."""
    index = SimilarityIndex[int](load_similarity(path))
    computed = index.add_stored(rows)
    return SerializedIndex(index), computed


def _write_back(store: Store, computed: list[tuple[int, dict[str, Any]]]) -> None:
    if not computed:
        return
    with store.transaction() as tx:
        for contribution_id, value in computed:
            tx.set_index_entry(contribution_id, value)
    log.info("same-need index: %d entries computed and stored", len(computed))


def build_engine(settings: Settings) -> Engine:
    """The running bot's engine. The models load in the background (``bot.app.warmup``):
    the first turns are answered at once, the first turn that needs a model waits for it."""
    taxonomy = Taxonomy.load(settings.taxonomy_file)
    models = model_path(settings)
    classifier = LoadingClassifier(lambda: load_classifier(taxonomy, models))
    services = build_services(settings, classifier)  # a broken data file stops us here
    store = open_store(settings)
    services = replace(services, similar=loading_similarity_index(store, models))
    return Engine(
        services,
        store,  # its clock is the engine's
        window=settings.sending_window,
        flood=flood_gate(settings),
        metrics=Metrics() if settings.metrics_address else None,
    )


def flood_gate(settings: Settings) -> FloodGate[ConversationKey]:
    """Flood control per conversation; the administrators are not throttled (twenty
    commands pasted in a row are their work, not a flood)."""
    return FloodGate[ConversationKey](
        burst=settings.flood_burst,
        rate=settings.flood_rate,
        exempt=lambda key: settings.is_admin(key.transport, key.user),
    )


def clock_of(settings: Settings) -> Callable[[], datetime]:
    """The bot's clock: real time, or with ``RECUEIL_NOW`` a trial clock that starts then.

    The trial clock runs at the real pace from the given instant, so that a whole phase can
    be tried by hand (``RECUEIL_NOW=2027-02-15T10:00:00+01:00 ./dev run``).
    """
    if settings.now is None:
        return utcnow
    offset = settings.now - utcnow()
    return lambda: utcnow() + offset
