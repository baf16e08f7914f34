"""Assembling the bot from the settings: store, services, engine and transports."""

from __future__ import annotations

from bot.context import Services
from bot.engine import Engine
from bot.intake import build_forms
from config.calendar import Calendar
from config.catalogue import Catalogue
from config.settings import Settings
from config.taxonomy import Taxonomy
from nlp.classifier import Classifier, KeywordClassifier
from storage.referential import default_referential
from storage.store import Store


def build_services(settings: Settings, classifier: Classifier | None = None) -> Services:
    taxonomy = Taxonomy.load(settings.taxonomy_file)
    return Services(
        settings=settings,
        catalogue=Catalogue.load(settings.messages_file),
        taxonomy=taxonomy,
        calendar=Calendar.load(settings.zone, settings.calendar_file),
        referential=default_referential(),
        classifier=classifier or KeywordClassifier(taxonomy),
        forms=build_forms(),
    )


def open_store(settings: Settings) -> Store:
    return Store.open(settings.effective_database_url, auto_migrate=settings.auto_migrate)


def build_engine(settings: Settings) -> Engine:
    return Engine(build_services(settings), open_store(settings))
