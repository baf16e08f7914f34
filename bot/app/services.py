"""Assembling the bot from the settings: store, services, engine and transports."""

from __future__ import annotations

import logging
from dataclasses import replace

from bot.app.engine import Engine
from bot.commands import build_commands
from bot.consultation.recurrence import SerializedIndex, indexed_text
from bot.core.flood import FloodGate
from bot.core.values import ConversationKey
from bot.dialogue.context import Services
from bot.forms.intake import build_forms
from bot.scenes import build_scenes
from config.calendar import Calendar
from config.catalogue import Catalogue
from config.settings import Settings
from config.taxonomy import Taxonomy
from nlp.classifier import Classifier
from nlp.loading import load_classifier, load_similarity
from nlp.similarity import SimilarityIndex
from storage.referential import default_referential
from storage.store import Store

log = logging.getLogger(__name__)


def build_services(settings: Settings, classifier: Classifier | None = None) -> Services:
    taxonomy = Taxonomy.load(settings.taxonomy_file)
    return Services(
        settings=settings,
        catalogue=Catalogue.load(settings.messages_file),
        taxonomy=taxonomy,
        calendar=Calendar.load(settings.zone, settings.calendar_file),
        referential=default_referential(),
        classifier=classifier or load_classifier(taxonomy),
        forms=build_forms(),
        scenes=build_scenes(),
        commands=build_commands(),
    )


def open_store(settings: Settings) -> Store:
    return Store.open(settings.effective_database_url, auto_migrate=settings.auto_migrate)


def similarity_index(store: Store) -> SerializedIndex | None:
    """The same-need index, filled with every stored contribution (the database is the truth).

    None, with a logged warning, when no similarity model ships: the step is then skipped.
    """
    try:
        index = SimilarityIndex[int](load_similarity())
    except FileNotFoundError as exc:
        log.warning("same-need search disabled: %s", exc)
        return None
    with store.transaction() as tx:
        index.add_many(
            (cid, kind, indexed_text(title, description))
            for cid, kind, title, description in tx.contribution_texts()
        )
    return SerializedIndex(index)


def build_engine(settings: Settings) -> Engine:
    store = open_store(settings)
    services = replace(build_services(settings), similar=similarity_index(store))
    flood = FloodGate[ConversationKey](burst=settings.flood_burst, rate=settings.flood_rate)
    return Engine(services, store, flood=flood)
